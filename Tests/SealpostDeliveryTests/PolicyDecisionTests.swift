import Testing
@testable import SealpostDelivery
@testable import SealpostSettings
@testable import SealpostStorage

/// The decision table: every setting × every server behaviour, with no network.
@Suite struct PolicyDecisionTests {
    static let opportunistic = EnforcedTLSSettings(requireTLS: false, requireValidCert: false, version: .v1_1)
    static let tls12 = EnforcedTLSSettings(requireTLS: true, requireValidCert: false, version: .v1_2)
    static let tls13 = EnforcedTLSSettings(requireTLS: true, requireValidCert: false, version: .v1_3)
    static let validCert = EnforcedTLSSettings(requireTLS: false, requireValidCert: true, version: .v1_1)
    static let validCert13 = EnforcedTLSSettings(requireTLS: true, requireValidCert: true, version: .v1_3)

    /// A server behaviour: what EHLO offers and what the handshake yields (`nil` = it failed).
    struct Server: CustomStringConvertible {
        var name: String
        var offersSTARTTLS: Bool
        var tls: TLSFacts?
        var description: String { name }
    }

    static let servers: [Server] = [
        Server(name: "no STARTTLS", offersSTARTTLS: false, tls: nil),
        Server(name: "handshake fails", offersSTARTTLS: true, tls: nil),
        Server(name: "self-signed, TLS 1.3", offersSTARTTLS: true, tls: TLSFacts(version: .v1_3, certificate: .untrusted)),
        Server(name: "valid, TLS 1.3", offersSTARTTLS: true, tls: TLSFacts(version: .v1_3, certificate: .valid)),
        Server(name: "valid, TLS 1.2", offersSTARTTLS: true, tls: TLSFacts(version: .v1_2, certificate: .valid)),
        Server(name: "valid, TLS 1.1", offersSTARTTLS: true, tls: TLSFacts(version: .v1_1, certificate: .valid)),
        Server(name: "valid, TLS 1.0", offersSTARTTLS: true, tls: TLSFacts(version: nil, certificate: .valid)),
        Server(name: "wrong host name", offersSTARTTLS: true, tls: TLSFacts(version: .v1_3, certificate: .hostMismatch)),
        Server(name: "expired", offersSTARTTLS: true, tls: TLSFacts(version: .v1_3, certificate: .expired)),
        Server(name: "garbage certificate", offersSTARTTLS: true, tls: TLSFacts(version: .v1_3, certificate: .invalid)),
    ]

    enum Expect: Equatable {
        case plaintext
        case encrypted
        case verified
        case retryPlaintext
        case refused(TLSFailure)
    }

    /// Runs the two decision points the way the client does.
    static func decide(_ settings: EnforcedTLSSettings, _ server: Server) -> Expect {
        let policy = PolicySet([EnforcedTLSPolicy(settings: settings)])
        switch policy.afterEHLO(starttlsOffered: server.offersSTARTTLS, mxHost: "mx.test") {
        case .refuse(let f): return .refused(f)
        case .plaintext: return .plaintext
        case .startTLS:
            switch policy.afterHandshake(ConnectionFacts(starttlsOffered: true, tls: server.tls), mxHost: "mx.test") {
            case .refuse(let f): return .refused(f)
            case .reconnectWithoutTLS: return .retryPlaintext
            case .proceed(.verified): return .verified
            case .proceed(.encrypted): return .encrypted
            case .proceed(.none): return .plaintext
            }
        }
    }

    static let table: [(EnforcedTLSSettings, [Expect])] = [
        // no STARTTLS, fails, self-signed, valid1.3, valid1.2, valid1.1, valid1.0, wrong name, expired, garbage
        (opportunistic, [.plaintext, .retryPlaintext, .encrypted, .verified, .verified, .verified, .verified, .encrypted, .encrypted, .encrypted]),
        (tls12, [.refused(.starttlsNotSupported), .refused(.validationFailure), .encrypted, .verified, .verified,
                 .refused(.tlsVersionTooLow), .refused(.tlsVersionTooLow), .encrypted, .encrypted, .encrypted]),
        (tls13, [.refused(.starttlsNotSupported), .refused(.validationFailure), .encrypted, .verified, .refused(.tlsVersionTooLow),
                 .refused(.tlsVersionTooLow), .refused(.tlsVersionTooLow), .encrypted, .encrypted, .encrypted]),
        (validCert, [.refused(.starttlsNotSupported), .refused(.validationFailure), .refused(.certificateNotTrusted), .verified, .verified,
                     .verified, .refused(.tlsVersionTooLow), .refused(.certificateHostMismatch), .refused(.certificateExpired), .refused(.validationFailure)]),
        (validCert13, [.refused(.starttlsNotSupported), .refused(.validationFailure), .refused(.certificateNotTrusted), .verified,
                       .refused(.tlsVersionTooLow), .refused(.tlsVersionTooLow), .refused(.tlsVersionTooLow),
                       .refused(.certificateHostMismatch), .refused(.certificateExpired), .refused(.validationFailure)]),
    ]

    @Test func decisionTable() {
        for (settings, expected) in Self.table {
            #expect(expected.count == Self.servers.count)
            for (server, want) in zip(Self.servers, expected) {
                #expect(Self.decide(settings, server) == want, "\(settings.json) × \(server)")
            }
        }
    }

    @Test func requireValidCertImpliesTLSEvenWithoutRequireTLS() {
        #expect(EnforcedTLSPolicy(settings: Self.validCert).level == .verify)
        #expect(EnforcedTLSPolicy(settings: Self.tls12).level == .encrypt)
        #expect(EnforcedTLSPolicy(settings: Self.opportunistic).level == .may)
    }

    @Test func refusedSTARTTLSIsLikeNotOffered() {
        let strict = PolicySet([EnforcedTLSPolicy(settings: Self.tls12)])
        let lax = PolicySet([EnforcedTLSPolicy(settings: Self.opportunistic)])
        #expect(strict.afterSTARTTLSRefused(mxHost: "mx") == .refuse(.starttlsNotSupported))
        #expect(lax.afterSTARTTLSRefused(mxHost: "mx") == .plaintext)
    }

    @Test func strictestPolicyWins() {
        struct AlwaysVerify: SecurityPolicy {
            var name: String { "test" }
            func requiredLevel(mxHost: String) -> SecurityLevel { .verify }
            func violation(_ facts: ConnectionFacts, mxHost: String) -> TLSFailure? {
                facts.tls?.certificate == .valid ? nil : .certificateNotTrusted
            }
        }
        let set = PolicySet([EnforcedTLSPolicy(settings: Self.opportunistic), AlwaysVerify()])
        #expect(set.requiredLevel(mxHost: "mx") == .verify)
        #expect(set.afterEHLO(starttlsOffered: false, mxHost: "mx") == .refuse(.starttlsNotSupported))
        #expect(set.afterHandshake(ConnectionFacts(starttlsOffered: true, tls: TLSFacts(version: .v1_3, certificate: .untrusted)), mxHost: "mx")
                == .refuse(.certificateNotTrusted))
    }

    @Test func ladderIsOrdered() {
        #expect(SecurityLevel.allCases == [.none, .may, .encrypt, .verify])
        #expect(SecurityLevel.none < .may && SecurityLevel.may < .encrypt && SecurityLevel.encrypt < .verify)
    }

    @Test func combiningHostOutcomes() {
        #expect(RecipientFate.combine([.policyFailure(.starttlsNotSupported), .policyFailure(.certificateExpired)]) == .blocked(.starttlsNotSupported))
        #expect(RecipientFate.combine([.policyFailure(.starttlsNotSupported), .delivered("250 ok")]) == .delivered("250 ok"))
        #expect(RecipientFate.combine([.policyFailure(.starttlsNotSupported), .temporaryFailure("timeout")]) == .deferred("timeout"))
        #expect(RecipientFate.combine([.temporaryFailure("refused"), .permanentFailure("550 no")]) == .bounced("550 no"))
        #expect(RecipientFate.combine([]) == .deferred("no mail exchanger could be tried"))
    }
}

@Suite struct SchedulingTests {
    func delivery(_ id: Int64, message: String) -> QueuedDelivery {
        QueuedDelivery(id: id, messageID: message, userID: 1, recipient: "r\(id)@x.test", domain: "x.test", attempts: 1, mailFrom: "a@b.test",
                       smtpID: "<\(message)>", content: [], categories: [], customArgs: [:], expiresAt: .distantFuture)
    }

    @Test func lanesRespectThePerDestinationLimitAndKeepMessagesWhole() {
        // 25 messages, the first with 3 recipients.
        var ds = (0..<3).map { delivery(Int64($0), message: "m0") }
        ds += (1..<25).map { delivery(Int64(100 + $0), message: "m\($0)") }
        let lanes = DeliveryEngine.lanes(ds, lanes: 4, perSession: 5)
        #expect(lanes.count == 4)
        let sessions = lanes.flatMap { $0 }
        #expect(sessions.allSatisfy { Set($0.map(\.messageID)).count <= 5 })
        #expect(sessions.flatMap { $0 }.count == ds.count)
        #expect(sessions.filter { $0.contains { $0.messageID == "m0" } }.count == 1, "a message's recipients share one session")
        #expect(DeliveryEngine.lanes([delivery(1, message: "only")], lanes: 10, perSession: 100).count == 1)
    }
}
