import NIOCore
import Synchronization

/// How far a session may run ahead of its stored outcomes: by at most `limit` messages.
///
/// With `limit` 0 (the engine's default) the final `.` of the session's next message waits until
/// the last message's outcome is committed (`SMTPConversationHandler` sends everything before
/// it meanwhile), so a crash re-sends at most one message per session; the wait is a future on
/// the session's event loop, not a task, and the commit is shared with every other session's
/// (`OutcomeSink`). A larger limit trades that guarantee (`limit + 1` messages in doubt per
/// session) for less waiting on the disk. Either way all of a session's outcomes are stored
/// before it counts as done (`drain`).
final class RecordWindow: Sendable {
    private struct State {
        var unstored = 0
        /// The session waiting for room (one at most: it waits before its next final `.`).
        var waiting: [EventLoopPromise<Void>] = []
        var drained: [CheckedContinuation<Void, Never>] = []
    }

    private let limit: Int
    private let state = Mutex(State())

    init(limit: Int) {
        self.limit = max(0, limit)
    }

    /// Starts storing one message's outcome: `work` hands it to the store and calls the
    /// closure it gets once the store answered. `nil`: the session goes on at once; otherwise
    /// a future, on `eventLoop`, completed once no more than `limit` outcomes are unstored.
    func submit(
        on eventLoop: any EventLoop, _ work: (_ answered: @escaping @Sendable () -> Void) -> Void
    ) -> EventLoopFuture<Void>? {
        let wait = state.withLock { s -> EventLoopPromise<Void>? in
            s.unstored += 1
            guard s.unstored > limit else { return nil }
            let promise = eventLoop.makePromise(of: Void.self)
            s.waiting.append(promise)
            return promise
        }
        work { self.stored() }
        return wait?.futureResult
    }

    private func stored() {
        let (room, drained) = state.withLock { s -> ([EventLoopPromise<Void>], [CheckedContinuation<Void, Never>]) in
            s.unstored -= 1
            var room: [EventLoopPromise<Void>] = []
            if s.unstored <= limit { swap(&room, &s.waiting) }
            var drained: [CheckedContinuation<Void, Never>] = []
            if s.unstored == 0 { swap(&drained, &s.drained) }
            return (room, drained)
        }
        for promise in room { promise.succeed(()) }
        for continuation in drained { continuation.resume() }
    }

    /// Returns once every outcome submitted so far is stored (or its store failed).
    func drain() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if s.unstored == 0 { return true }
                s.drained.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }
}
