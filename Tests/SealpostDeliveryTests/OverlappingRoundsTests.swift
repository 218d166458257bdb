import Foundation
import Logging
import NIOCore
import Synchronization
import Testing

@testable import SealpostCore
@testable import SealpostDelivery
@testable import SealpostSMTP
@testable import SealpostSQLite
@testable import SealpostStorage

/// The scheduler claims the next round while the last one's sessions still run, and the two
/// together never open more sessions to a destination than one round may.
@Suite struct OverlappingRoundsTests {
    @Test func theNextRoundStartsBeforeTheLastSessionEndsAndTheLimitHolds() async throws {
        try await withTemporaryStore("rounds") { store in
            let user = try await store.createAccount(name: "rounds", email: nil)
            let sink = try await SMTPSink()
            defer { Task { await sink.close() } }
            // Round 1 is r0...r3 in two lanes (r0, r2 and r1, r3), one message per session. The
            // sink holds r3's final reply until a fifth connection opens (or 10 s pass): only a
            // round 2 (r4...r7) claimed while r3's session is open can open it in time.
            sink.log.slow.withLock { $0 = ("r3", 5, .seconds(10)) }
            try await store.enqueue((0..<8).map { sinkMessage(user, "r\($0)") }, events: [], lifetime: 3600)
            var configuration = DeliveryConfiguration()
            configuration.claimBatch = 4
            configuration.maxSessionsPerDestination = 2
            configuration.messagesPerSession = 1
            let engine = DeliveryEngine(
                store: store, client: SMTPDeliveryClient(heloName: "engine.test", evaluator: .system),
                resolver: NextHopResolver(routes: ["sink.test": NextHop(host: "127.0.0.1", port: sink.port)]),
                configuration: configuration, logger: Logger(label: "test"))
            let running = Task { try await engine.run() }
            defer { running.cancel() }

            let deadline = Date().addingTimeInterval(20)
            var delivered = 0
            while delivered < 8 && Date() < deadline {
                try await Task.sleep(for: .milliseconds(20))
                delivered = try await store.events(userID: nil, limit: 100).filter { $0.event == "delivered" }.count
            }
            #expect(delivered == 8)
            let sessions = sink.log.sessions.withLock { $0.list }
            #expect(sessions.flatMap(\.subjects).sorted() == (0..<8).map { "r\($0)" })
            #expect(sessions.allSatisfy { $0.subjects.count == 1 }, "\(sessions)")
            let slow = try #require(sessions.first { $0.subjects == ["r3"] })
            let nextRound = try #require(sessions.first { $0.subjects == ["r4"] })
            #expect(nextRound.opened < (slow.closed ?? .max), "round 2 waited for round 1's last session: \(sessions)")
            #expect(sink.log.mostOpenAtOnce == 2, "\(sessions)")
        }
    }
}

@Suite struct SessionPermitsTests {
    @Test func limitsInAllAndPerDestinationAndAFullDestinationHoldsUpNobodyElse() async throws {
        let permits = SessionPermits<String>(limit: 3, perKey: 2)
        await permits.acquire("a")
        await permits.acquire("a")
        let order = OrderLog()
        let thirdA = Task {
            await permits.acquire("a")
            order.add("a")
        }
        while permits.usage.waiting < 1 { await Task.yield() }
        // "a" is full, but a slot in all is free: "b" passes the waiting "a".
        await permits.acquire("b")
        #expect(permits.usage == (3, 1))
        let secondB = Task {
            await permits.acquire("b")
            order.add("b")
        }
        while permits.usage.waiting < 2 { await Task.yield() }
        // Releasing a "b" frees a slot in all that the first waiter ("a", still full) cannot
        // take; the second ("b") takes it.
        permits.release("b")
        await secondB.value
        #expect(order.items == ["b"] && permits.usage == (3, 1))
        permits.release("a")
        await thirdA.value
        #expect(order.items == ["b", "a"] && permits.usage == (3, 0))
    }
}

final class OrderLog: Sendable {
    private let list = Mutex<[String]>([])
    func add(_ item: String) { list.withLock { $0.append(item) } }
    var items: [String] { list.withLock { $0 } }
}
