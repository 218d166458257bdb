import Foundation
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import SealpostCore
@testable import SealpostDelivery

/// The two pieces between a session and the store: the writer that puts every session's
/// outcomes into as few transactions as it can, and the window that holds a session back.
@Suite struct OutcomeStorageTests {
    static func update(_ id: Int64) -> DeliveryUpdate {
        DeliveryUpdate(
            deliveryID: id, resolution: .delivered, result: "250 ok",
            event: EventRecord(userID: 1, sgEventID: "e\(id)", event: "delivered", email: "a@x.test", payload: "{}"))
    }

    /// Outcomes that arrive while a write is under way go out together in the next one, and
    /// every submitter hears the answer of the write that carried its outcome.
    @Test func writerGathersWaitingOutcomesAndAnswersEach() async {
        let writes = Mutex<[[Int64]]>([])
        let (held, release) = AsyncStream<Void>.makeStream()
        let sink = OutcomeSink(gatherBelow: 0) { updates in
            writes.withLock { $0.append(updates.map(\.deliveryID)) }
            guard updates.contains(where: { $0.deliveryID == 1 }) else { return true }
            for await _ in held { break }  // held until the others queued behind it
            return false  // ... and then fails
        }
        async let first = sink.store([Self.update(1)])
        while writes.withLock({ $0.count }) == 0 { await Task.yield() }
        let answers = await withTaskGroup(of: (Int64, Bool).self) { group in
            for id in Int64(2)...5 {
                group.addTask { (id, await sink.store([Self.update(id)])) }
            }
            while sink.waiting < 4 { try? await Task.sleep(for: .milliseconds(2)) }
            release.yield()
            var answers: [Int64: Bool] = [:]
            for await (id, stored) in group { answers[id] = stored }
            return answers
        }
        #expect(await first == false)
        let batches = writes.withLock { $0 }
        #expect(batches.count == 2)
        #expect(batches.first == [1])
        #expect(Set(batches.last ?? []) == [2, 3, 4, 5])
        #expect(answers == [2: true, 3: true, 4: true, 5: true])
    }

    @Test func failedWriteIsReportedToItsSubmitter() async {
        let sink = OutcomeSink(gatherBelow: 0) { _ in false }
        #expect(await sink.store([Self.update(7)]) == false)
    }

    /// With a limit of 0, every outcome makes the session wait until it is stored; with a
    /// limit of 2, the third unstored one does; `drain` returns only when all are stored.
    @Test(arguments: [0, 2])
    func windowHoldsTheSessionAtItsLimit(limit: Int) async throws {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let window = RecordWindow(limit: limit)
        var finishers: [@Sendable () -> Void] = []
        var futures: [EventLoopFuture<Void>?] = []
        for _ in 0...limit {
            futures.append(window.submit(on: loop) { answered in finishers.append(answered) })
        }
        // Below the limit nothing waits; the submission over it does.
        #expect(futures.dropLast().allSatisfy { $0 == nil })
        let waiting = try #require(futures.last ?? nil)
        let released = Atomic<Bool>(false)
        waiting.whenComplete { _ in released.store(true, ordering: .relaxed) }
        try await Task.sleep(for: .milliseconds(20))
        let releasedEarly = released.load(ordering: .relaxed)
        #expect(!releasedEarly)
        let drained = Atomic<Bool>(false)
        let drain = Task {
            await window.drain()
            drained.store(true, ordering: .relaxed)
        }
        finishers[0]()  // one stored: back within the limit
        try await waiting.get()
        if limit > 0 {  // others are still unstored
            try await Task.sleep(for: .milliseconds(20))
            let drainedEarly = drained.load(ordering: .relaxed)
            #expect(!drainedEarly)
        }
        for finish in finishers.dropFirst() { finish() }
        await drain.value
        let drainedAtEnd = drained.load(ordering: .relaxed)
        #expect(drainedAtEnd)
    }
}
