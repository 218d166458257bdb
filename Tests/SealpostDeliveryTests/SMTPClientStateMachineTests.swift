import Testing

@testable import SealpostCore
@testable import SealpostDelivery
@testable import SealpostSMTP

/// The client's conversation without sockets: a scripted server answers each phase, and the
/// test checks the exact commands sent, the results reported and how the session ends, for
/// every server behaviour the hostile-peer tests use (framing, timeouts and garbage reach the
/// machine as `connectionFailed`, as the NIO handlers report them).
@Suite struct SMTPClientStateMachineTests {
    /// What the scripted server does when a reply of `phase` is awaited.
    enum Answer {
        case reply(Int, [String])
        /// The connection breaks (or a read times out) with this reason.
        case fail(String)
    }

    struct Run {
        var sent: [String] = []
        var reported: [Int: [RecipientResult]] = [:]
        var end: SMTPClientStateMachine.SessionEnd?
        /// What `.keepOpen` handed back, when the session kept its connection.
        var kept: SMTPClientStateMachine.Resumption?
    }

    static let lax = PolicySet([EnforcedTLSPolicy(settings: .default)])
    static let strict = PolicySet([
        EnforcedTLSPolicy(settings: EnforcedTLSSettings(requireTLS: true, requireValidCert: false, version: .v1_2))
    ])

    static func message(_ id: String, to recipients: [String], body: String = "Subject: x\r\n\r\nhello\r\n") -> OutboundMessage {
        OutboundMessage(id: id, mailFrom: "a@sender.test", recipients: recipients, content: Array(body.utf8))
    }

    /// Drives the machine to its end. `server` is asked for every awaited reply (with the
    /// commands sent so far); `tls` answers STARTTLS's handshake.
    static func converse(
        _ messages: [OutboundMessage], policy: PolicySet = lax, useTLS: Bool = true,
        tls: () -> TLSFacts? = { nil }, injected: Bool = false, resuming: SMTPClientStateMachine.Resumption? = nil,
        keepOpen: Bool = false, server: (SMTPClientStateMachine.Phase, [String]) -> Answer
    ) -> Run {
        var machine = SMTPClientStateMachine(
            messages: messages, heloName: "client.test", mxHost: "mx.test", policy: policy, useTLS: useTLS, resuming: resuming,
            keepOpen: keepOpen)
        var run = Run()
        var actions = machine.start()
        var steps = 0
        while run.end == nil {
            steps += 1
            guard steps < 1000 else { Issue.record("no end"); return run }
            var next: [SMTPClientStateMachine.Action] = []
            for action in actions {
                switch action {
                case .send(let line): run.sent.append(line)
                case .sendPipelined(let lines): run.sent.append(lines.joined(separator: "|"))
                case .sendData(let bytes): run.sent.append("<data \(bytes.count)>")
                case .awaitReply(let phase):
                    switch server(phase, run.sent) {
                    case .reply(let code, let lines): next = machine.replied(SMTPReply(code: code, lines: lines))
                    case .fail(let reason): next = machine.connectionFailed(reason)
                    }
                case .startTLS:
                    run.sent.append("<tls>")
                    next = tls().map { machine.tlsEstablished($0) } ?? machine.tlsFailed(injected: injected)
                case .messageDone(let index, let results, _):
                    #expect(run.reported[index] == nil, "a message is reported once")
                    run.reported[index] = results
                case .keepOpen(let kept):
                    #expect(run.kept == nil, "kept once")
                    run.kept = kept
                case .finish(let end): run.end = end
                }
            }
            actions = next
        }
        return run
    }

    /// A well-behaved server: greeting, EHLO with `extensions`, 250 to everything, 354 to DATA.
    static func good(_ extensions: [String] = ["PIPELINING"]) -> (SMTPClientStateMachine.Phase, [String]) -> Answer {
        { phase, _ in
            switch phase {
            case .greeting: .reply(220, ["mx.test ESMTP"])
            case .ehlo: .reply(250, ["mx.test"] + extensions)
            case .dataInit: .reply(354, ["go ahead"])
            case .dataTermination: .reply(250, ["2.0.0 queued as X"])
            case .quit: .reply(221, ["2.0.0 bye"])
            default: .reply(250, ["2.0.0 ok"])
            }
        }
    }

    /// The DATA size of `message(_:to:)`'s default body.
    static let n = message("x", to: []).data.count

    static let accepted = RecipientResult.delivered(SMTPReply(code: 250, lines: ["2.0.0 queued as X"]))

    @Test func pipelinedSessionWithTwoMessages() {
        let m = Self.message("m1", to: ["b@mx.test", "c@mx.test"])
        let run = Self.converse([m, Self.message("m2", to: ["d@mx.test"])], server: Self.good())
        #expect(
            run.sent == [
                "EHLO client.test",
                "MAIL FROM:<a@sender.test>|RCPT TO:<b@mx.test>|RCPT TO:<c@mx.test>|DATA", "<data \(m.data.count)>",
                "MAIL FROM:<a@sender.test>|RCPT TO:<d@mx.test>|DATA", "<data \(m.data.count)>",
                "QUIT",
            ])
        #expect(run.reported == [0: [Self.accepted, Self.accepted], 1: [Self.accepted]])
        #expect(run.end == .outcome(.completed(.plaintext, [[Self.accepted, Self.accepted], [Self.accepted]])))
    }

    /// RFC 2920 §3.1: the next message's MAIL, RCPT and DATA follow a message's content in
    /// the same group, so they are sent before the reply to its `.` is awaited; the last
    /// message's `.` is followed by nothing, and QUIT comes after its reply.
    @Test func theNextEnvelopeIsPipelinedAfterTheDot() {
        let messages = [
            Self.message("m1", to: ["b@mx.test"]), Self.message("m2", to: ["c@mx.test", "d@mx.test"]),
            Self.message("m3", to: ["e@mx.test"]),
        ]
        var sentBeforeDotReply: [[String]] = []
        let run = Self.converse(messages) { phase, sent in
            if phase == .dataTermination { sentBeforeDotReply.append(sent) }
            return Self.good()(phase, sent)
        }
        let envelopes = [
            "MAIL FROM:<a@sender.test>|RCPT TO:<b@mx.test>|DATA", "MAIL FROM:<a@sender.test>|RCPT TO:<c@mx.test>|RCPT TO:<d@mx.test>|DATA",
            "MAIL FROM:<a@sender.test>|RCPT TO:<e@mx.test>|DATA",
        ]
        let data = "<data \(Self.n)>"
        #expect(
            sentBeforeDotReply == [
                ["EHLO client.test", envelopes[0], data, envelopes[1]],
                ["EHLO client.test", envelopes[0], data, envelopes[1], data, envelopes[2]],
                ["EHLO client.test", envelopes[0], data, envelopes[1], data, envelopes[2], data],
            ])
        #expect(run.sent.last == "QUIT")
        #expect(run.reported == [0: [Self.accepted], 1: [Self.accepted, Self.accepted], 2: [Self.accepted]])
    }

    /// The end of data closes the transaction whatever its reply (RFC 5321 §4.1.1.4): a
    /// rejected message before a pipelined envelope needs no RSET, and the next one goes on.
    @Test func aRejectedDotBeforeAPipelinedEnvelopeNeedsNoRSET() {
        var dots = 0
        let run = Self.converse([Self.message("m1", to: ["b@mx.test"]), Self.message("m2", to: ["c@mx.test"])]) { phase, sent in
            if phase == .dataTermination {
                dots += 1
                if dots == 1 { return .reply(554, ["5.7.1 content rejected"]) }
            }
            return Self.good()(phase, sent)
        }
        #expect(!run.sent.contains("RSET"))
        #expect(run.reported == [0: [.permanent(SMTPReply(code: 554, lines: ["5.7.1 content rejected"]))], 1: [Self.accepted]])
    }

    /// A message that cannot be offered at all (too large) is not pipelined ahead: it is
    /// reported without a command, and the one after it gets its own group.
    @Test func aMessageRefusedLocallyIsNotPipelinedAhead() {
        let big = Self.message("big", to: ["x@mx.test"], body: String(repeating: "x", count: 200))
        var sentBeforeDotReply: [[String]] = []
        let run = Self.converse([Self.message("m1", to: ["b@mx.test"]), big, Self.message("m3", to: ["c@mx.test"])]) {
            phase, sent in
            if phase == .dataTermination { sentBeforeDotReply.append(sent) }
            return Self.good(["SIZE 100", "PIPELINING"])(phase, sent)
        }
        #expect(sentBeforeDotReply.first?.last == "<data \(Self.n)>", "nothing follows the first `.`")
        #expect(run.reported[1] == [.permanent(.local(552, "5.3.4", "message size 205 exceeds the server's limit 100"))])
        #expect(run.reported[0] == [Self.accepted] && run.reported[2] == [Self.accepted])
    }

    @Test func oneCommandAtATimeWithoutPipelining() {
        let run = Self.converse([Self.message("m", to: ["b@mx.test", "c@mx.test"])], server: Self.good(["SIZE 1000000"]))
        #expect(
            run.sent == [
                "EHLO client.test", "MAIL FROM:<a@sender.test> SIZE=\(Self.n)", "RCPT TO:<b@mx.test>", "RCPT TO:<c@mx.test>", "DATA",
                "<data \(Self.n)>", "QUIT",
            ])
    }

    @Test func heloFallbackHasNoExtensions() {
        let run = Self.converse([Self.message("m", to: ["b@mx.test"])]) { phase, _ in
            if phase == .ehlo { return .reply(502, ["5.5.1 no EHLO"]) }
            return Self.good()(phase, [])
        }
        #expect(
            run.sent == [
                "EHLO client.test", "HELO client.test", "MAIL FROM:<a@sender.test>", "RCPT TO:<b@mx.test>", "DATA", "<data \(Self.n)>",
                "QUIT",
            ])
        #expect(run.reported[0] == [Self.accepted])
    }

    @Test func aRejectedRecipientKeepsItsReplyAndTheOthersAreDelivered() {
        var rcpt = 0
        let run = Self.converse([Self.message("m", to: ["b@mx.test", "unknown@mx.test"])]) { phase, sent in
            if phase == .rcptTo {
                rcpt += 1
                if rcpt == 2 { return .reply(550, ["5.1.1 user unknown"]) }
            }
            return Self.good()(phase, sent)
        }
        #expect(run.reported[0] == [Self.accepted, .permanent(SMTPReply(code: 550, lines: ["5.1.1 user unknown"]))])
        #expect(!run.sent.contains("RSET"), "a delivered transaction needs no RSET")
    }

    @Test func pipelinedDATAAcceptedAfterEveryRecipientFailedIsEndedEmptyAndReset() {
        let run = Self.converse([Self.message("m", to: ["b@mx.test"]), Self.message("n", to: ["c@mx.test"])]) { phase, sent in
            if phase == .rcptTo && sent.last!.contains("b@mx.test") { return .reply(451, ["4.3.0 try later"]) }
            return Self.good()(phase, sent)
        }
        #expect(
            run.sent == [
                "EHLO client.test", "MAIL FROM:<a@sender.test>|RCPT TO:<b@mx.test>|DATA", "<data 3>", "RSET",
                "MAIL FROM:<a@sender.test>|RCPT TO:<c@mx.test>|DATA", "<data \(Self.n)>", "QUIT",
            ])
        #expect(run.reported[0] == [.temporary(SMTPReply(code: 451, lines: ["4.3.0 try later"]))])
        #expect(run.reported[1] == [Self.accepted])
    }

    @Test func aRefusedMAILFailsEveryRecipientWithItsReply() {
        let run = Self.converse(
            [Self.message("m", to: ["b@mx.test", "c@mx.test"])],
            server: { phase, sent in
                if phase == .mailFrom { return .reply(553, ["5.7.1 sender rejected"]) }
                if phase == .dataInit { return .reply(503, ["5.5.1 no valid recipients"]) }
                return Self.good()(phase, sent)
            })
        let refused = RecipientResult.permanent(SMTPReply(code: 553, lines: ["5.7.1 sender rejected"]))
        #expect(run.reported[0] == [refused, refused])
        #expect(run.sent.suffix(2) == ["RSET", "QUIT"])
    }

    @Test func aTemporaryFinalReplyDefersAndResets() {
        let run = Self.converse([Self.message("m", to: ["b@mx.test"])]) { phase, sent in
            if phase == .dataTermination { return .reply(452, ["4.3.1 queue full"]) }
            return Self.good()(phase, sent)
        }
        #expect(run.reported[0] == [.temporary(SMTPReply(code: 452, lines: ["4.3.1 queue full"]))])
        #expect(run.sent.suffix(2) == ["RSET", "QUIT"])
    }

    @Test func sizeAndSMTPUTF8AreRefusedBeforeAnyCommand() {
        let big = Self.message("big", to: ["b@mx.test"], body: String(repeating: "x", count: 200))
        let utf8 = OutboundMessage(id: "u", mailFrom: "a@sender.test", recipients: ["jö@mx.test"], content: Array("x".utf8))
        let run = Self.converse([big, utf8, Self.message("ok", to: ["c@mx.test"])], server: Self.good(["SIZE 100", "PIPELINING"]))
        #expect(run.reported[0] == [.permanent(.local(552, "5.3.4", "message size 205 exceeds the server's limit 100"))])
        #expect(run.reported[1] == [.permanent(.local(553, "5.6.7", "non-ASCII address and the server lacks SMTPUTF8"))])
        #expect(run.reported[2] == [Self.accepted])
        #expect(run.sent.filter { $0.hasPrefix("MAIL") } == ["MAIL FROM:<a@sender.test> SIZE=\(Self.n)|RCPT TO:<c@mx.test>|DATA"])
    }

    /// RFC 6531 §3.2: a message with UTF-8 headers (a co-recipient's non-ASCII address) needs
    /// SMTPUTF8 even for an ASCII envelope; it is refused for a server without it, and sent
    /// with the parameter to one that has it.
    @Test func utf8HeadersNeedSMTPUTF8ForAnASCIIEnvelopeToo() {
        let content = Array("To: jö@other.test, b@mx.test\r\n\r\nx".utf8)
        let intl = OutboundMessage(
            id: "i", mailFrom: "a@sender.test", recipients: ["b@mx.test"], content: content, headersNeedSMTPUTF8: true)
        let refused = Self.converse([intl, Self.message("ok", to: ["c@mx.test"])], server: Self.good(["PIPELINING"]))
        #expect(
            refused.reported[0] == [
                .permanent(.local(553, "5.6.7", "the message has UTF-8 headers (a non-ASCII address) and the server lacks SMTPUTF8"))
            ])
        #expect(refused.reported[1] == [Self.accepted])
        #expect(refused.sent.filter { $0.hasPrefix("MAIL") } == ["MAIL FROM:<a@sender.test>|RCPT TO:<c@mx.test>|DATA"])
        let sent = Self.converse([intl], server: Self.good(["PIPELINING", "SMTPUTF8"]))
        #expect(sent.reported[0] == [Self.accepted])
        #expect(sent.sent.filter { $0.hasPrefix("MAIL") } == ["MAIL FROM:<a@sender.test> SMTPUTF8|RCPT TO:<b@mx.test>|DATA"])
    }

    @Test func aGreetingThatIsNot220MakesTheHostUnreachable() {
        let run = Self.converse([Self.message("m", to: ["b@mx.test"])]) { phase, sent in
            phase == .greeting ? .reply(554, ["5.3.2 no service"]) : Self.good()(phase, sent)
        }
        #expect(run.end == .outcome(.unreachable("greeting: 554 5.3.2 no service")))
        #expect(run.sent.isEmpty)
    }

    /// Overlong lines, endless replies, garbage and drip-fed greetings end in the framer,
    /// the parser or a timeout before the first transaction: the host is unreachable.
    @Test(arguments: [
        "reply line too long", "reply longer than 128 lines", "malformed SMTP reply line: hello", "timed out waiting for greeting",
    ])
    func brokenServersBeforeTheTransactionAreUnreachable(_ reason: String) {
        let run = Self.converse([Self.message("m", to: ["b@mx.test"])]) { phase, sent in
            phase == .greeting ? .fail(reason) : Self.good()(phase, sent)
        }
        #expect(run.end == .outcome(.unreachable(reason)))
        #expect(run.reported.isEmpty)
    }

    /// dropdata: the line dies in the middle of the message. That message and every later one
    /// are deferred (nothing is marked delivered); earlier ones keep their results.
    @Test func aConnectionLostInDATADefersThisAndTheRest() {
        var data = 0
        let messages = [
            Self.message("m1", to: ["b@mx.test"]), Self.message("m2", to: ["c@mx.test"]), Self.message("m3", to: ["d@mx.test"]),
        ]
        let run = Self.converse(messages) { phase, sent in
            if phase == .dataTermination {
                data += 1
                if data == 2 { return .fail("connection closed by the server") }
            }
            return Self.good()(phase, sent)
        }
        let lost = RecipientResult.temporary(.local(451, "4.4.2", "connection lost: connection closed by the server"))
        #expect(run.reported == [0: [Self.accepted]])
        #expect(run.end == .outcome(.completed(.plaintext, [[Self.accepted], [lost], [lost]])))
    }

    // MARK: STARTTLS and the policies

    static let tls13 = TLSFacts(version: .v1_3, certificate: .untrusted)

    @Test func startTLSThenEHLOAgainAndOnlyTheNewCapabilitiesCount() {
        var ehlo = 0
        let run = Self.converse([Self.message("m", to: ["b@mx.test"])], tls: { Self.tls13 }) { phase, sent in
            switch phase {
            case .ehlo:
                ehlo += 1
                // Before TLS: STARTTLS and PIPELINING; after: nothing (so no pipelining).
                return ehlo == 1 ? .reply(250, ["mx.test", "STARTTLS", "PIPELINING"]) : .reply(250, ["mx.test"])
            case .startTLS: return .reply(220, ["2.0.0 ready"])
            default: return Self.good()(phase, sent)
            }
        }
        #expect(
            run.sent == [
                "EHLO client.test", "STARTTLS", "<tls>", "EHLO client.test", "MAIL FROM:<a@sender.test>", "RCPT TO:<b@mx.test>",
                "DATA", "<data \(Self.n)>", "QUIT",
            ])
        #expect(
            run.end
                == .outcome(
                    .completed(SessionTLS(reached: .encrypted, version: .v1_3, cipher: nil, certificate: .untrusted), [[Self.accepted]])))
    }

    /// hide / refuse454 / refuse502 under require_tls: only EHLO, STARTTLS (if offered) and QUIT.
    @Test(arguments: [("hide", 0), ("refuse454", 454), ("refuse502", 502)])
    func strippedSTARTTLSIsRefusedUnderRequireTLS(_ mode: String, _ code: Int) {
        let serverFor = { (phase: SMTPClientStateMachine.Phase, sent: [String]) -> Answer in
            switch phase {
            case .ehlo: return .reply(250, ["mx.test"] + (code == 0 ? [] : ["STARTTLS"]))
            case .startTLS: return .reply(code, ["no"])
            default: return Self.good()(phase, sent)
            }
        }
        let strict = Self.converse([Self.message("m", to: ["b@mx.test"])], policy: Self.strict, server: serverFor)
        #expect(strict.sent == (code == 0 ? ["EHLO client.test", "QUIT"] : ["EHLO client.test", "STARTTLS", "QUIT"]), "\(mode)")
        let refusal = PolicyRefusal(policy: "enforced_tls", failure: .starttlsNotSupported, permanence: .permanent, status: "5.7.10")
        #expect(strict.end == .outcome(.policyRefused(refusal, ConnectionFacts(starttlsOffered: false, tls: nil))), "\(mode)")
        // Opportunistic mail goes on in plaintext.
        let lax = Self.converse([Self.message("m", to: ["b@mx.test"])], server: serverFor)
        #expect(lax.reported[0] == [Self.accepted], "\(mode)")
    }

    @Test func aFailedHandshakeRetriesInPlaintextOnlyWhenEveryPolicyAllowsIt() {
        let offering = { (phase: SMTPClientStateMachine.Phase, sent: [String]) -> Answer in
            switch phase {
            case .ehlo: .reply(250, ["mx.test", "STARTTLS"])
            case .startTLS: .reply(220, ["go"])
            default: Self.good()(phase, sent)
            }
        }
        #expect(Self.converse([Self.message("m", to: ["b@mx.test"])], server: offering).end == .retryWithoutTLS)
        let strict = Self.converse([Self.message("m", to: ["b@mx.test"])], policy: Self.strict, server: offering)
        #expect(
            strict.end
                == .outcome(
                    .policyRefused(
                        PolicyRefusal(policy: "enforced_tls", failure: .validationFailure, permanence: .permanent, status: "5.7.10"),
                        ConnectionFacts(starttlsOffered: true, tls: nil))))
        // The plaintext retry itself: STARTTLS is not tried again; a strict policy refuses it.
        let retry = Self.converse([Self.message("m", to: ["b@mx.test"])], useTLS: false, server: offering)
        #expect(!retry.sent.contains("STARTTLS") && retry.reported[0] == [Self.accepted])
        let strictRetry = Self.converse([Self.message("m", to: ["b@mx.test"])], policy: Self.strict, useTLS: false, server: offering)
        #expect(strictRetry.sent == ["EHLO client.test", "QUIT"])
    }

    /// inject: plaintext after the 220 was discarded by the decoder; if the handshake then
    /// fails, the host is given up for now and never tried in plaintext.
    @Test func aHandshakeFailureAfterAnInjectionIsNeverRetriedInPlaintext() {
        let run = Self.converse([Self.message("m", to: ["b@mx.test"])], injected: true) { phase, sent in
            switch phase {
            case .ehlo: .reply(250, ["mx.test", "STARTTLS"])
            case .startTLS: .reply(220, ["go"])
            default: Self.good()(phase, sent)
            }
        }
        #expect(run.end == .outcome(.unreachable("plaintext injected after STARTTLS")))
    }

    /// A refusal sends QUIT and ends; when that QUIT cannot be written (the server already hung
    /// up), the session still ends with the refusal, instead of with nothing to do.
    @Test func aFailedQUITAfterARefusalStillEndsWithTheRefusal() {
        var machine = SMTPClientStateMachine(
            messages: [Self.message("m", to: ["b@mx.test"])], heloName: "client.test", mxHost: "mx.test", policy: Self.strict)
        _ = machine.start()
        _ = machine.replied(SMTPReply(code: 220, lines: ["mx.test"]))
        let refused = machine.replied(SMTPReply(code: 250, lines: ["mx.test"]))
        let refusal = PolicyRefusal(policy: "enforced_tls", failure: .starttlsNotSupported, permanence: .permanent, status: "5.7.10")
        let end = SMTPClientStateMachine.Action.finish(.outcome(.policyRefused(refusal, ConnectionFacts(starttlsOffered: false, tls: nil))))
        #expect(refused == [.send("QUIT"), end])
        #expect(machine.connectionFailed("connection closed by the server") == [end])
    }

    // MARK: REQUIRETLS (RFC 8689)

    static let requireTLS = PolicySet([
        PreparedRequireTLS(discovery: .found(secureHosts: ["mx.test"], stsPolicy: nil)), EnforcedTLSPolicy(settings: .default),
    ])

    static func requireTLSMessage() -> OutboundMessage {
        var m = message("m", to: ["b@mx.test"])
        m.requireTLS = true
        return m
    }

    static func tlsServer(afterTLS: [String]) -> (SMTPClientStateMachine.Phase, [String]) -> Answer {
        { phase, sent in
            switch phase {
            case .ehlo: sent.contains("<tls>") ? .reply(250, ["mx.test"] + afterTLS) : .reply(250, ["mx.test", "STARTTLS", "REQUIRETLS"])
            case .startTLS: .reply(220, ["2.0.0 ready"])
            default: good()(phase, sent)
            }
        }
    }

    @Test func requireTLSIsPassedOnToAVerifiedServerThatOffersItAfterTLS() {
        let verified = TLSFacts(version: .v1_3, certificate: .valid)
        let run = Self.converse(
            [Self.requireTLSMessage()], policy: Self.requireTLS, tls: { verified }, server: Self.tlsServer(afterTLS: ["REQUIRETLS"]))
        #expect(
            run.sent == [
                "EHLO client.test", "STARTTLS", "<tls>", "EHLO client.test", "MAIL FROM:<a@sender.test> REQUIRETLS", "RCPT TO:<b@mx.test>",
                "DATA", "<data \(Self.n)>", "QUIT",
            ])
        #expect(run.reported[0] == [Self.accepted])
    }

    @Test func requireTLSOfferedOnlyBeforeTLSIsRefusedBeforeAnyMessage() {
        let verified = TLSFacts(version: .v1_3, certificate: .valid)
        let run = Self.converse(
            [Self.requireTLSMessage()], policy: Self.requireTLS, tls: { verified }, server: Self.tlsServer(afterTLS: []))
        #expect(run.sent == ["EHLO client.test", "STARTTLS", "<tls>", "EHLO client.test", "QUIT"])
        guard case .outcome(.policyRefused(let refusal, _)) = run.end else {
            Issue.record("not refused: \(String(describing: run.end))")
            return
        }
        #expect(refusal.failure == .requireTLSNotSupported && refusal.policy == "requiretls")
        #expect(refusal.permanence == .permanent && refusal.status == "5.7.30")
        #expect(refusal.reason == "REQUIRETLS not met: mx.test does not offer REQUIRETLS")
    }

    @Test func requireTLSNeedsAVerifiedCertificateAndTLS() {
        let untrusted = Self.converse(
            [Self.requireTLSMessage()], policy: Self.requireTLS, tls: { Self.tls13 }, server: Self.tlsServer(afterTLS: ["REQUIRETLS"]))
        #expect(untrusted.sent == ["EHLO client.test", "STARTTLS", "<tls>", "QUIT"])
        guard case .outcome(.policyRefused(let refusal, _)) = untrusted.end else {
            Issue.record("not refused")
            return
        }
        #expect(refusal.failure == .certificateNotTrusted && refusal.status == "5.7.30")
        let plain = Self.converse([Self.requireTLSMessage()], policy: Self.requireTLS, server: Self.good(["REQUIRETLS"]))
        #expect(plain.sent == ["EHLO client.test", "QUIT"])
        guard case .outcome(.policyRefused(let r2, _)) = plain.end else {
            Issue.record("not refused")
            return
        }
        #expect(r2.failure == .starttlsNotSupported && r2.reason == "REQUIRETLS not met: mx.test does not offer STARTTLS")
        // A DANE-authenticated certificate counts as verified.
        let dane = TLSFacts(version: .v1_2, certificate: .untrusted, dane: .endEntity)
        let viaDANE = Self.converse(
            [Self.requireTLSMessage()], policy: Self.requireTLS, tls: { dane }, server: Self.tlsServer(afterTLS: ["REQUIRETLS"]))
        #expect(viaDANE.reported[0] == [Self.accepted])
    }

    @Test func requireTLSUsesOnlySecurelyFoundHosts() {
        let found = PreparedRequireTLS(
            discovery: .found(
                secureHosts: ["mx1.test"],
                stsPolicy: MTASTSPolicyText.parse("version: STSv1\nmode: testing\nmx: *.sts.test\nmax_age: 86400\n")))
        #expect(found.checkMX("MX1.test.") == .use(required: .verify))
        #expect(found.checkMX("a.sts.test") == .use(required: .verify), "an MTA-STS policy listing the host")
        guard case .refuse(let r) = found.checkMX("mx2.test") else {
            Issue.record("an insecure MX was used")
            return
        }
        #expect(r.failure == .requireTLSNotSupported && r.permanence == .permanent && r.status == "5.7.30")
        #expect(r.reason?.hasPrefix("REQUIRETLS not met: MX host mx2.test was not found securely") == true)
        #expect(PreparedRequireTLS(discovery: .routed).checkMX("anything.test") == .use(required: .verify))
        // A message without REQUIRETLS: no such policy in its set, MAIL FROM without the option.
        let plain = Self.converse([Self.message("m", to: ["b@mx.test"])], server: Self.good(["REQUIRETLS"]))
        #expect(plain.sent.contains("MAIL FROM:<a@sender.test>|RCPT TO:<b@mx.test>|DATA") == false)
        #expect(plain.sent.first { $0.hasPrefix("MAIL") } == "MAIL FROM:<a@sender.test>")
    }
}

/// A connection kept between sessions: the session that ends cleanly hands it back instead of
/// QUIT, and the next session judges it under its own policies before it sends anything.
@Suite struct KeptConnectionTests {
    typealias T = SMTPClientStateMachineTests
    static let pipelining = SMTPCapabilities(ehlo: SMTPReply(code: 250, lines: ["mx.test", "PIPELINING"]))
    static let pipeliningAndSTARTTLS = SMTPCapabilities(ehlo: SMTPReply(code: 250, lines: ["mx.test", "PIPELINING", "STARTTLS"]))
    static let verified = TLSFacts(version: .v1_3, certificate: .valid)
    static let untrusted = TLSFacts(version: .v1_2, certificate: .untrusted)
    static let validCert = PolicySet([
        EnforcedTLSPolicy(settings: EnforcedTLSSettings(requireTLS: true, requireValidCert: true, version: .v1_2))
    ])
    static let tls13 = PolicySet([
        EnforcedTLSPolicy(settings: EnforcedTLSSettings(requireTLS: true, requireValidCert: false, version: .v1_3))
    ])

    /// No QUIT: the machine hands back the EHLO after TLS and the handshake's facts.
    @Test func aCleanSessionKeepsItsConnection() {
        let m = T.message("m1", to: ["b@mx.test"])
        let run = T.converse(
            [m], policy: T.strict, tls: { Self.verified }, keepOpen: true,
            server: { phase, sent in
                phase == .startTLS ? .reply(220, ["2.0.0 ready"]) : T.good(["PIPELINING", "STARTTLS"])(phase, sent)
            })
        #expect(
            run.sent == [
                "EHLO client.test", "STARTTLS", "<tls>", "EHLO client.test", "MAIL FROM:<a@sender.test>|RCPT TO:<b@mx.test>|DATA",
                "<data \(m.data.count)>",
            ])
        #expect(run.kept == SMTPClientStateMachine.Resumption(capabilities: Self.pipeliningAndSTARTTLS, tls: Self.verified))
        guard case .outcome(.completed(let tls, let results)) = run.end else { Issue.record("\(String(describing: run.end))"); return }
        #expect(results == [[T.accepted]])
        #expect(tls.reached != .none && tls.version == .v1_3 && !tls.reusedConnection)
    }

    /// A session that ended after a refused transaction also keeps it, once RSET was answered.
    @Test func keptAfterRSET() {
        let run = T.converse([T.message("m1", to: ["b@mx.test"])], keepOpen: true) { phase, sent in
            phase == .rcptTo ? .reply(550, ["5.1.1 no such user"]) : T.good()(phase, sent)
        }
        #expect(run.sent.suffix(2) == ["<data 3>", "RSET"])
        #expect(run.kept != nil)
    }

    /// Resumed: straight to the first envelope; the TLS state is the kept one, marked reused.
    @Test func aResumedSessionBeginsWithTheEnvelope() {
        let m = T.message("m1", to: ["b@mx.test"])
        let resumption = SMTPClientStateMachine.Resumption(capabilities: Self.pipeliningAndSTARTTLS, tls: Self.verified)
        let run = T.converse([m], policy: Self.validCert, resuming: resumption, keepOpen: true) { phase, sent in
            if phase == .greeting || phase == .ehlo { Issue.record("asked for \(phase)") }
            return T.good()(phase, sent)
        }
        #expect(run.sent == ["MAIL FROM:<a@sender.test>|RCPT TO:<b@mx.test>|DATA", "<data \(m.data.count)>"])
        guard case .outcome(.completed(let tls, _)) = run.end else { Issue.record("\(String(describing: run.end))"); return }
        #expect(tls.reached == .verified && tls.reusedConnection)
        #expect(run.kept == resumption)
    }

    /// Fail closed: a connection that was good enough for the last session's policy but not
    /// for this one's is never used (QUIT, `.stale`: a new connection is judged from the start).
    @Test(arguments: [
        (SMTPClientStateMachine.Resumption(capabilities: pipelining, tls: nil), T.strict),
        (SMTPClientStateMachine.Resumption(capabilities: pipeliningAndSTARTTLS, tls: nil), T.lax),
        (SMTPClientStateMachine.Resumption(capabilities: pipeliningAndSTARTTLS, tls: untrusted), validCert),
        (SMTPClientStateMachine.Resumption(capabilities: pipeliningAndSTARTTLS, tls: untrusted), tls13),
    ])
    func aKeptConnectionThisPolicyRefusesIsStale(_ resumption: SMTPClientStateMachine.Resumption, _ policy: PolicySet) {
        let run = T.converse([T.message("m1", to: ["b@mx.test"])], policy: policy, resuming: resumption, keepOpen: true) { phase, _ in
            Issue.record("asked for \(phase)")
            return .fail("unexpected")
        }
        #expect(run.sent == ["QUIT"])
        #expect(run.end == .stale)
        #expect(run.reported.isEmpty)
    }

    /// The server closed the kept connection before answering anything: stale, not deferred.
    @Test func brokenBeforeAnyReplyIsStale() {
        let resumption = SMTPClientStateMachine.Resumption(capabilities: Self.pipelining, tls: nil)
        let run = T.converse([T.message("m1", to: ["b@mx.test"])], resuming: resumption) { _, _ in .fail("connection reset") }
        #expect(run.end == .stale)
        #expect(run.reported.isEmpty)
    }

    /// Once the server has answered, a broken kept connection defers like any other.
    @Test func brokenAfterAReplyDefers() {
        let resumption = SMTPClientStateMachine.Resumption(capabilities: Self.pipelining, tls: nil)
        let run = T.converse([T.message("m1", to: ["b@mx.test"])], resuming: resumption) { phase, sent in
            phase == .mailFrom ? T.good()(phase, sent) : .fail("connection reset")
        }
        guard case .outcome(.completed(_, let results)) = run.end else { Issue.record("\(String(describing: run.end))"); return }
        guard case .temporary(let reply) = results[0][0] else { Issue.record("\(results)"); return }
        #expect(reply.code == 451)
    }
}
