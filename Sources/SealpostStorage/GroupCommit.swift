import Synchronization

/// Group commit: concurrent writes that arrive while a transaction is being committed wait
/// and are committed together in the next one, with one fsync for all of them.
///
/// Each caller still gets its answer only after its own change is durable, so the "200 means
/// on disk" promise holds; what changes is that 64 concurrent PATCHes cost a few fsyncs
/// rather than 64.
public final class GroupCommit<Input: Sendable, Output: Sendable>: Sendable {
    public typealias Commit = @Sendable ([Input]) async -> [Result<Output, any Error>]

    private struct Pending: Sendable {
        var input: Input
        var continuation: CheckedContinuation<Output, any Error>
    }

    private let state = Mutex<(queue: [Pending], draining: Bool)>(([], false))
    private let commit: Commit
    /// Upper bound on one transaction, so a burst cannot make one commit arbitrarily long.
    private let maxBatch: Int

    public init(maxBatch: Int = 256, commit: @escaping Commit) {
        self.maxBatch = maxBatch
        self.commit = commit
    }

    public func submit(_ input: Input) async throws -> Output {
        try await withCheckedThrowingContinuation { continuation in
            let start = state.withLock { state -> Bool in
                state.queue.append(Pending(input: input, continuation: continuation))
                if state.draining { return false }
                state.draining = true
                return true
            }
            if start { Task { await self.drain() } }
        }
    }

    private func drain() async {
        while true {
            let batch = state.withLock { state -> [Pending] in
                let batch = Array(state.queue.prefix(maxBatch))
                state.queue.removeFirst(batch.count)
                if batch.isEmpty { state.draining = false }
                return batch
            }
            if batch.isEmpty { return }
            let results = await commit(batch.map(\.input))
            for (pending, result) in zip(batch, results) {
                pending.continuation.resume(with: result)
            }
        }
    }
}
