import Foundation
import Logging
import Testing

@testable import SealpostCore
@testable import SealpostDelivery
@testable import SealpostSMTP
@testable import SealpostSQLite
@testable import SealpostStorage

/// Per-domain entries through the real engine and a plaintext-only SMTP sink: an entry replaces
/// the account's setting for its domain, looser (mail gets through under `require_tls`) or
/// stricter (blocked under opportunistic settings, `tls_failure.policy` "domain"), and an entry
/// for another domain changes nothing.
@Suite struct DomainEntryDeliveryTests {
    @Test func anEntryReplacesTheAccountSettingForItsDomain() async throws {
        try await withTemporaryStore("domain") { store in
            let cli = AuditActor(keyID: nil, onBehalfOf: nil, via: "cli")
            let requireTLS = EnforcedTLSSettings(requireTLS: true, requireValidCert: false, version: .v1_2)
            let looser = try await store.createAccount(name: "looser", email: nil)
            _ = try await store.updateEnforcedTLS(userID: looser.id, patch: EnforcedTLSPatch(requireTLS: true), actor: cli)
            _ = try await store.putDomainTLSEntry(userID: looser.id, DomainTLSEntry(domain: "sink.test", settings: .default), actor: cli)
            let stricter = try await store.createAccount(name: "stricter", email: nil)
            _ = try await store.putDomainTLSEntry(userID: stricter.id, DomainTLSEntry(domain: ".test", settings: requireTLS), actor: cli)
            let elsewhere = try await store.createAccount(name: "elsewhere", email: nil)
            _ = try await store.updateEnforcedTLS(userID: elsewhere.id, patch: EnforcedTLSPatch(requireTLS: true), actor: cli)
            _ = try await store.putDomainTLSEntry(
                userID: elsewhere.id, DomainTLSEntry(domain: "other.test", settings: .default), actor: cli)
            let sink = try await SMTPSink()
            defer { Task { await sink.close() } }

            try await store.enqueue(
                [sinkMessage(looser, "loosermsg"), sinkMessage(stricter, "strictermsg"), sinkMessage(elsewhere, "elsewheremsg")],
                events: [],
                lifetime: 3600)
            let engine = DeliveryEngine(
                store: store, client: SMTPDeliveryClient(heloName: "engine.test", evaluator: .system),
                resolver: NextHopResolver(routes: ["sink.test": NextHop(host: "127.0.0.1", port: sink.port)]),
                configuration: DeliveryConfiguration(), logger: Logger(label: "test"))
            #expect(try await engine.runOnce())

            let events = try await store.events(userID: nil, limit: 100)
            func final(_ user: User) -> EventRecord? { events.last { $0.userID == user.id } }
            #expect(final(looser)?.event == "delivered")
            #expect(sink.received.contains("body of loosermsg"))
            #expect(final(stricter)?.event == "bounce")
            #expect(final(stricter)?.payload.contains(#""reason":"TLS required but not supported""#) == true)
            #expect(final(stricter)?.payload.contains(#""policy":"domain""#) == true)
            #expect(final(stricter)?.payload.contains(#""minimum_version":"1.2""#) == true)
            #expect(final(elsewhere)?.event == "bounce")
            #expect(final(elsewhere)?.payload.contains(#""policy":"enforced_tls""#) == true)
            #expect(!sink.received.contains("strictermsg") && !sink.received.contains("elsewheremsg"))
            #expect(try await store.blocks(userID: stricter.id, query: BlockQuery()).map(\.email) == ["rcpt@sink.test"])
        }
    }
}
