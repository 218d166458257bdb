import Foundation
import SealpostCore
import Synchronization

/// Runs `operation`, but waits for it at most `limit`: then `StoreError.unavailable` is thrown
/// and the operation is cancelled and left behind.
///
/// Why not a task group: a group waits for every child, and a database call that never
/// answers never ends. postgres-nio 1.33 has such a call: a query written to a connection the
/// server has just closed is dropped without failing its promise, so the caller waits forever
/// (found by the database-restart test, which froze delivery on both nodes). A stalled store
/// must defer mail, not stop the engine.
public func withDeadline<T: Sendable>(
    _ limit: Duration, _ what: String,
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    let race = DeadlineRace()
    return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        let work = Task {
            let result: Result<T, any Error>
            do { result = .success(try await operation()) } catch { result = .failure(error) }
            if race.settle() { continuation.resume(with: result) }
        }
        let timer = Task {
            try? await Task.sleep(for: limit)
            guard !Task.isCancelled, race.settle() else { return }
            work.cancel()
            continuation.resume(throwing: StoreError.unavailable("\(what): no answer within \(limit)"))
        }
        race.arm(timer)
    }
}

/// Who answered first; the timer is cancelled as soon as the work settles, so a fast call
/// leaves no sleeping task behind.
private final class DeadlineRace: Sendable {
    private let state = Mutex<(settled: Bool, timer: Task<Void, Never>?)>((false, nil))

    /// True for the first caller only; cancels the timer.
    func settle() -> Bool {
        let (first, timer) = state.withLock { s -> (Bool, Task<Void, Never>?) in
            if s.settled { return (false, nil) }
            s.settled = true
            defer { s.timer = nil }
            return (true, s.timer)
        }
        timer?.cancel()
        return first
    }

    func arm(_ timer: Task<Void, Never>) {
        let settled = state.withLock { s -> Bool in
            if !s.settled { s.timer = timer }
            return s.settled
        }
        if settled { timer.cancel() }
    }
}
