import Synchronization

/// Slots for SMTP sessions, shared by every scheduling round in flight: at most `limit` at
/// once in all, and at most `perKey` to one destination.
///
/// The limits used to be kept inside a round, which was enough while a round ended before the
/// next one claimed. Rounds now overlap (the next claims while the last sessions of the one
/// before still run, so the sink is never left idle at a round's end); these slots keep the
/// overlap from opening more sessions to a destination than one round may.
///
/// Waiters are served in arrival order, skipping those whose destination is at its limit (a
/// full destination does not hold up the others). A waiter is not woken by cancellation: a
/// session in flight always ends and frees its slot, and cancelled rounds then end at once.
final class SessionPermits<Key: Hashable & Sendable>: Sendable {
    private struct State {
        var total = 0
        var perKey: [Key: Int] = [:]
        var waiters: [(key: Key, continuation: CheckedContinuation<Void, Never>)] = []

        func available(_ key: Key, limit: Int, perKey perKeyLimit: Int) -> Bool {
            total < limit && perKey[key, default: 0] < perKeyLimit
        }

        mutating func take(_ key: Key) {
            total += 1
            perKey[key, default: 0] += 1
        }
    }

    private let state = Mutex(State())
    let limit: Int
    let perKey: Int

    init(limit: Int, perKey: Int) {
        self.limit = max(1, limit)
        self.perKey = max(1, perKey)
    }

    func acquire(_ key: Key) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            // Every waiter that a slot could serve was served at the last release, so a slot
            // free now may go to this caller without passing anybody who waits.
            let now = state.withLock { s -> Bool in
                if s.available(key, limit: limit, perKey: perKey) {
                    s.take(key)
                    return true
                }
                s.waiters.append((key, continuation))
                return false
            }
            if now { continuation.resume() }
        }
    }

    func release(_ key: Key) {
        let woken = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.total -= 1
            s.perKey[key, default: 1] -= 1
            if s.perKey[key] == 0 { s.perKey[key] = nil }
            var woken: [CheckedContinuation<Void, Never>] = []
            var index = 0
            while index < s.waiters.count && s.total < limit {
                let waiter = s.waiters[index]
                if s.available(waiter.key, limit: limit, perKey: perKey) {
                    s.take(waiter.key)
                    woken.append(waiter.continuation)
                    s.waiters.remove(at: index)
                } else {
                    index += 1
                }
            }
            return woken
        }
        for continuation in woken { continuation.resume() }
    }

    /// Slots in use and callers waiting (for tests).
    var usage: (inUse: Int, waiting: Int) { state.withLock { ($0.total, $0.waiters.count) } }
}
