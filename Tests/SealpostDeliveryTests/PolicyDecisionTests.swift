import Testing

@testable import SealpostCore
@testable import SealpostDelivery
@testable import SealpostSMTP
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

    /// Runs the real conversation (the client's state machine, which asks the policies)
    /// against a server with this behaviour, up to the first MAIL command or the end.
    static func decide(_ settings: EnforcedTLSSettings, _ server: Server) -> Expect {
        decide(PolicySet([EnforcedTLSPolicy(settings: settings)]), server)
    }

    static func decide(_ policy: PolicySet, _ server: Server) -> Expect {
        let message = OutboundMessage(id: "m", mailFrom: "a@sender.test", recipients: ["b@mx.test"], content: Array("x".utf8))
        var machine = SMTPClientStateMachine(messages: [message], heloName: "client.test", mxHost: "mx.test", policy: policy)
        var actions = machine.start()
        var afterTLS = false
        while !actions.isEmpty {
            var next: [SMTPClientStateMachine.Action] = []
            for action in actions {
                switch action {
                case .send(let line) where line.hasPrefix("MAIL FROM"): return reached(machine)
                case .sendPipelined(let lines) where lines.first?.hasPrefix("MAIL FROM") == true: return reached(machine)
                case .awaitReply(.greeting): next = machine.replied(SMTPReply(code: 220, lines: ["mx.test ESMTP"]))
                case .awaitReply(.ehlo):
                    let offer = server.offersSTARTTLS && !afterTLS
                    next = machine.replied(SMTPReply(code: 250, lines: ["mx.test"] + (offer ? ["STARTTLS"] : []) + ["PIPELINING"]))
                case .awaitReply(.startTLS): next = machine.replied(SMTPReply(code: 220, lines: ["2.0.0 go ahead"]))
                case .startTLS:
                    afterTLS = true
                    next = server.tls.map { machine.tlsEstablished($0) } ?? machine.tlsFailed(injected: false)
                case .finish(.retryWithoutTLS): return .retryPlaintext
                case .finish(.outcome(.policyRefused(let refusal, _))): return .refused(refusal.failure)
                case .finish(let end): Issue.record("unexpected end \(end)"); return .plaintext
                default: break
                }
            }
            actions = next
        }
        Issue.record("the conversation stalled")
        return .plaintext
    }

    static func reached(_ machine: SMTPClientStateMachine) -> Expect {
        switch machine.tls.reached {
        case .none: .plaintext
        case .encrypted: .encrypted
        case .verified: .verified
        }
    }

    static let table: [(EnforcedTLSSettings, [Expect])] = [
        // no STARTTLS, fails, self-signed, valid1.3, valid1.2, valid1.1, valid1.0, wrong name, expired, garbage
        (
            opportunistic,
            [.plaintext, .retryPlaintext, .encrypted, .verified, .verified, .verified, .verified, .encrypted, .encrypted, .encrypted]
        ),
        (
            tls12,
            [
                .refused(.starttlsNotSupported), .refused(.validationFailure), .encrypted, .verified, .verified,
                .refused(.tlsVersionTooLow), .refused(.tlsVersionTooLow), .encrypted, .encrypted, .encrypted,
            ]
        ),
        (
            tls13,
            [
                .refused(.starttlsNotSupported), .refused(.validationFailure), .encrypted, .verified, .refused(.tlsVersionTooLow),
                .refused(.tlsVersionTooLow), .refused(.tlsVersionTooLow), .encrypted, .encrypted, .encrypted,
            ]
        ),
        (
            validCert,
            [
                .refused(.starttlsNotSupported), .refused(.validationFailure), .refused(.certificateNotTrusted), .verified, .verified,
                .verified, .refused(.tlsVersionTooLow), .refused(.certificateHostMismatch), .refused(.certificateExpired),
                .refused(.validationFailure),
            ]
        ),
        (
            validCert13,
            [
                .refused(.starttlsNotSupported), .refused(.validationFailure), .refused(.certificateNotTrusted), .verified,
                .refused(.tlsVersionTooLow), .refused(.tlsVersionTooLow), .refused(.tlsVersionTooLow),
                .refused(.certificateHostMismatch), .refused(.certificateExpired), .refused(.validationFailure),
            ]
        ),
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

    /// A per-domain entry replaces the account's setting for its domain, looser or stricter, and
    /// its refusals name `domain`; other domains keep the account's setting.
    @Test func aDomainEntryReplacesTheAccountSetting() {
        let entries = [
            DomainTLSEntry(domain: "plain.test", settings: Self.opportunistic),
            DomainTLSEntry(domain: ".strict.test", settings: Self.tls12),
        ]
        let plaintextOnly = ConnectionFacts(starttlsOffered: false, tls: nil)
        let looser = EnforcedTLSPolicy.governing(account: Self.tls12, entries: entries, domain: "plain.test")
        #expect(looser.name == "domain" && looser.checkConnection(plaintextOnly, mxHost: "mx") == nil)
        let stricter = EnforcedTLSPolicy.governing(account: Self.opportunistic, entries: entries, domain: "mx.strict.test")
        #expect(
            stricter.checkConnection(plaintextOnly, mxHost: "mx")
                == PolicyRefusal(policy: "domain", failure: .starttlsNotSupported, permanence: .permanent, status: "5.7.10"))
        let other = EnforcedTLSPolicy.governing(account: Self.tls12, entries: entries, domain: "strict.test")
        #expect(other == EnforcedTLSPolicy(settings: Self.tls12), "a dot entry does not cover its own domain")
    }

    @Test func refusedSTARTTLSIsLikeNotOffered() {
        let strict = PolicySet([EnforcedTLSPolicy(settings: Self.tls12)])
        let lax = PolicySet([EnforcedTLSPolicy(settings: Self.opportunistic)])
        #expect(
            strict.afterSTARTTLSRefused(mxHost: "mx")
                == .refuse(PolicyRefusal(policy: "enforced_tls", failure: .starttlsNotSupported, permanence: .permanent, status: "5.7.10")))
        #expect(lax.afterSTARTTLSRefused(mxHost: "mx") == .plaintext)
    }

    @Test func strictestPolicyWins() {
        struct AlwaysVerify: SecurityPolicy, PreparedPolicy {
            var name: String { "test" }
            func prepare(domain: String) async throws -> any PreparedPolicy { self }
            func checkMX(_ mxHost: String) -> MXVerdict { .use(required: .verify) }
            func checkConnection(_ facts: ConnectionFacts, mxHost: String) -> PolicyRefusal? {
                facts.tls?.certificate == .valid
                    ? nil : PolicyRefusal(policy: name, failure: .certificateNotTrusted, permanence: .temporary, status: "4.7.5")
            }
        }
        let set = PolicySet([EnforcedTLSPolicy(settings: Self.opportunistic), AlwaysVerify()])
        #expect(set.requiredLevel(mxHost: "mx") == .verify)
        #expect(set.levelSource(mxHost: "mx") == "test")
        #expect(PolicySet([EnforcedTLSPolicy(settings: Self.opportunistic)]).levelSource(mxHost: "mx") == "opportunistic")
        let refusal = PolicyRefusal(policy: "test", failure: .certificateNotTrusted, permanence: .temporary, status: "4.7.5")
        #expect(set.afterEHLO(starttlsOffered: false, mxHost: "mx") == .refuse(refusal))
        #expect(
            set.afterHandshake(ConnectionFacts(starttlsOffered: true, tls: TLSFacts(version: .v1_3, certificate: .untrusted)), mxHost: "mx")
                == .refuse(refusal))
    }

    @Test func aPolicyThatCannotPrepareFailsThePreparation() async {
        struct Broken: SecurityPolicy {
            struct LookupFailed: Error {}
            var name: String { "broken" }
            func prepare(domain: String) async throws -> any PreparedPolicy { throw LookupFailed() }
        }
        await #expect(throws: Broken.LookupFailed.self) {
            try await PolicySet.prepare([EnforcedTLSPolicy(settings: Self.opportunistic), Broken()], domain: "x.test")
        }
    }

    @Test func ladderIsOrdered() {
        #expect(SecurityLevel.allCases == [.none, .may, .encrypt, .dane, .verify])
        #expect(SecurityLevel.none < .may && SecurityLevel.may < .encrypt && SecurityLevel.encrypt < .dane && SecurityLevel.dane < .verify)
    }

    @Test func combiningHostOutcomes() {
        let block = { (f: TLSFailure) in PolicyRefusal(policy: "enforced_tls", failure: f, permanence: .permanent, status: "5.7.10") }
        let later = PolicyRefusal(policy: "mta-sts", failure: .starttlsNotSupported, permanence: .temporary, status: "4.7.5")
        let ok = SMTPReply(code: 250, lines: ["2.0.0 ok"])
        let timeout = SMTPReply.local(451, "4.4.1", "timeout")
        let no = SMTPReply(code: 550, lines: ["5.1.1 no"])
        #expect(
            RecipientFate.combine([.policyFailure(block(.starttlsNotSupported)), .policyFailure(block(.certificateExpired))])
                == .blocked(block(.starttlsNotSupported)))
        #expect(RecipientFate.combine([.policyFailure(block(.starttlsNotSupported)), .delivered(ok)]) == .delivered(ok))
        #expect(
            RecipientFate.combine([.policyFailure(block(.starttlsNotSupported)), .temporaryFailure(timeout)]) == .deferred(timeout, nil))
        #expect(RecipientFate.combine([.temporaryFailure(timeout), .permanentFailure(no)]) == .bounced(no))
        // A recipient's published policy refusing is temporary: deferred with its refusal, never a block.
        #expect(
            RecipientFate.combine([.policyFailure(later), .policyFailure(block(.starttlsNotSupported))])
                == .deferred(.local(451, "4.7.5", "TLS policy mta-sts not met: starttls-not-supported"), later))
        #expect(RecipientFate.combine([]) == .deferred(.local(451, "4.4.0", "no mail exchanger could be tried"), nil))
    }
}

@Suite struct SchedulingTests {
    func delivery(_ id: Int64, message: String) -> QueuedDelivery {
        QueuedDelivery(
            id: id, messageID: message, userID: 1, recipient: "r\(id)@x.test", domain: "x.test", attempts: 1, mailFrom: "a@b.test",
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
