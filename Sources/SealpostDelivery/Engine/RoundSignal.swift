import Synchronization

/// A round's first news to the scheduler loop, given once: whether it claimed anything, and
/// so whether the loop goes on or idles. A round gives it when its first lane is done (the
/// next round may claim now) or when it ends, whichever comes first.
final class RoundSignal: Sendable {
    private struct State {
        var value: Bool?
        var waiter: CheckedContinuation<Bool, Never>?
    }

    private let state = Mutex(State())

    func fire(_ worked: Bool) {
        let waiter = state.withLock { s -> CheckedContinuation<Bool, Never>? in
            guard s.value == nil else { return nil }
            s.value = worked
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume(returning: worked)
    }

    /// For one waiter.
    func wait() async -> Bool {
        await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let value = state.withLock { s -> Bool? in
                if let value = s.value { return value }
                s.waiter = continuation
                return nil
            }
            if let value { continuation.resume(returning: value) }
        }
    }
}
