import Foundation
import Logging
import Synchronization
import Testing

@testable import SealpostCore
@testable import SealpostDelivery
@testable import SealpostSMTP
@testable import SealpostSQLite
@testable import SealpostStorage

/// The store's settings read, failing while `failing` is set: a real SQLite store underneath.
final class FaultySettings: EnforcedTLSSource {
    struct Injected: Error, CustomStringConvertible { var description: String { "injected settings fault" } }
    let store: any SealpostStore
    let failing = Atomic<Bool>(true)
    init(_ store: any SealpostStore) { self.store = store }
    func enforcedTLS(userID: Int64) async throws -> EnforcedTLSSettings {
        if failing.load(ordering: .relaxed) { throw Injected() }
        return try await store.enforcedTLS(userID: userID)
    }
    func domainTLSEntries(userID: Int64) async throws -> [DomainTLSEntry] {
        if failing.load(ordering: .relaxed) { throw Injected() }
        return try await store.domainTLSEntries(userID: userID)
    }
}

/// Fail closed: an error while reading a sender's Enforced TLS setting defers its mail without
/// opening a connection; it never sends at a lower level. Once the read works again, the mail
/// goes out under the real setting.
@Suite struct FailClosedTests {
    @Test func aSettingsReadErrorDefersAndNeverLowersTheLevel() async throws {
        try await withTemporaryStore("failclosed") { store in
            let strict = try await store.createAccount(name: "strict", email: nil)
            let lax = try await store.createAccount(name: "lax", email: nil)
            _ = try await store.updateEnforcedTLS(
                userID: strict.id, patch: EnforcedTLSPatch(requireTLS: true), actor: AuditActor(keyID: nil, onBehalfOf: nil, via: "cli"))
            let sink = try await SMTPSink()
            defer { Task { await sink.close() } }

            try await store.enqueue([sinkMessage(strict, "strictmsg"), sinkMessage(lax, "laxmsg")], events: [], lifetime: 3600)

            let faulty = FaultySettings(store)
            var configuration = DeliveryConfiguration()
            configuration.retryBase = 60
            let engine = DeliveryEngine(
                store: store, client: SMTPDeliveryClient(heloName: "engine.test", evaluator: .system),
                resolver: NextHopResolver(routes: ["sink.test": NextHop(host: "127.0.0.1", port: sink.port)]),
                configuration: configuration, logger: Logger(label: "test"), settingsSource: faulty)

            // The read fails: both deferred, with an event each, and no connection at all.
            #expect(try await engine.runOnce())
            #expect(sink.connections == 0)
            let deferred = try await store.events(userID: nil, limit: 100)
            #expect(deferred.map(\.event) == ["deferred", "deferred"])
            for event in deferred {
                #expect(
                    event.payload.contains(
                        #""response":"451 4.3.0 the sender's Enforced TLS setting could not be read; nothing was sent, will retry""#))
            }
            #expect(try await store.queueCounts() == ["queued": 2])
            // Not due again before the retry delay.
            #expect(try await engine.runOnce() == false)

            // Recovered: the next round (after the retry delay) applies each sender's real setting.
            faulty.failing.store(false, ordering: .relaxed)
            #expect(try await engine.runOnce(now: Date().addingTimeInterval(61)))
            let events = try await store.events(userID: nil, limit: 100)
            let strictFinal = events.filter { $0.userID == strict.id }.map(\.event)
            let laxFinal = events.filter { $0.userID == lax.id }.map(\.event)
            #expect(strictFinal == ["deferred", "bounce"])
            #expect(laxFinal == ["deferred", "delivered"])
            #expect(events.last(where: { $0.userID == strict.id })!.payload.contains(#""reason":"TLS required but not supported""#))
            #expect(sink.received.contains("body of laxmsg"))
            #expect(!sink.received.contains("strictmsg"), "the require_tls sender's message never went out in plaintext")
        }
    }
}
