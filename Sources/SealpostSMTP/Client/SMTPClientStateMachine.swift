import SealpostCore

/// The client side of one SMTP session, as a pure state machine in the style of
/// async-http-client: events in (`start`, a reply, the TLS handshake's result, a broken
/// connection), `Action`s out (send a command, send the message, read a reply, start TLS,
/// report a message, finish). It owns every protocol and policy decision of the session;
/// `SMTPDeliveryClient` only carries the actions out on a NIO channel, so the whole
/// conversation, including the TLS policy's decisions at the two points where they matter
/// (after EHLO and after the handshake), is unit-tested without sockets.
///
/// Covers the greeting, EHLO with HELO fallback, STARTTLS and the EHLO after it (RFC 3207
/// §4.2: capabilities learnt before TLS are forgotten), MAIL/RCPT/DATA with PIPELINING
/// (RFC 2920) or one command at a time, RSET after a failed transaction, and QUIT; and a
/// connection kept open between sessions (`Resumption`, `keepOpen`), which each new session
/// judges again under its own policies before it sends anything.
public struct SMTPClientStateMachine: Sendable {
    /// What a reply answers; the driver maps it to an RFC 5321 §4.5.3.2 timeout.
    public enum Phase: String, Sendable, Equatable, CustomStringConvertible {
        case greeting, ehlo = "EHLO", helo = "HELO", startTLS = "STARTTLS", mailFrom = "MAIL", rcptTo = "RCPT"
        case dataInit = "DATA", dataTermination = "end of DATA", rset = "RSET", quit = "QUIT"

        /// As in "timed out waiting for EHLO reply".
        public var description: String { self == .greeting ? "greeting" : "\(rawValue) reply" }
    }

    public enum Action: Sendable, Equatable {
        /// One command line, without CRLF.
        case send(String)
        /// Several command lines written at once (a pipelined group), without the last CRLF.
        case sendPipelined([String])
        /// The dot-stuffed message, ending in CRLF.CRLF.
        case sendData([UInt8])
        /// Read the next reply; feed it with `replied(_:)`.
        case awaitReply(Phase)
        /// Put TLS under the connection and judge the certificate; feed the result with
        /// `tlsEstablished(_:)` or `tlsFailed(injected:)`.
        case startTLS
        /// A message's transaction ended: its results can be made durable now.
        case messageDone(index: Int, results: [RecipientResult], tls: SessionTLS)
        /// Every message is done and the server waits for the next command: keep the
        /// connection for the next session to this host instead of QUIT (`.finish` follows).
        case keepOpen(Resumption)
        /// The session is over; close the connection.
        case finish(SessionEnd)
    }

    public enum SessionEnd: Sendable, Equatable {
        case outcome(SessionOutcome)
        /// Opportunistic only: the TLS handshake broke the connection; deliver over a new
        /// connection without STARTTLS.
        case retryWithoutTLS
        /// A kept connection that cannot carry this session: this session's policies do not
        /// accept what it was (plaintext, a certificate, a TLS version), or it broke before
        /// the server answered anything. Nothing was sent that delivers mail; close it and
        /// run the session on a new connection, judged from the start.
        case stale
    }

    /// What a connection kept from an earlier session brings to the next one: the server's
    /// extensions (from the EHLO after STARTTLS, when there was one) and the handshake's
    /// facts, with DANE matched again against this session's expectation. `tls` is `nil` for
    /// a plaintext connection.
    public struct Resumption: Sendable, Equatable {
        public var capabilities: SMTPCapabilities
        public var tls: TLSFacts?

        public init(capabilities: SMTPCapabilities, tls: TLSFacts?) {
            self.capabilities = capabilities
            self.tls = tls
        }
    }

    enum State: Sendable, Equatable {
        case idle
        case greeting
        case ehlo(afterTLS: Bool)
        case helo(afterTLS: Bool)
        case startTLSSent
        case handshaking
        case transaction(Transaction)
        /// RSET sent after a transaction that was already reported; then the next message.
        case resetting(next: Int)
        case quitting
        case done
    }

    /// One message's MAIL/RCPT/DATA exchange.
    struct Transaction: Sendable, Equatable {
        var index: Int
        var pipelined: Bool
        var mailReply: SMTPReply?
        var rcptReplies: [SMTPReply] = []
        var dataReply: SMTPReply?
        /// The end of DATA with an empty message, to throw away a DATA the server accepted
        /// although no recipient was (pipelining) or the MAIL failed.
        var aborting = false
        var bodySent = false
        /// The next message's MAIL, RCPT and DATA were sent after this one's `.`.
        var nextSent = false
    }

    let messages: [OutboundMessage]
    let heloName: String
    let mxHost: String
    let policy: PolicySet
    /// False on the plaintext retry after a failed handshake.
    let useTLS: Bool
    private(set) var state: State = .idle
    /// How the session ended, once it has: a broken connection after that (a QUIT that could
    /// not be written) changes nothing.
    private var ended: SessionEnd?
    private(set) var capabilities = SMTPCapabilities()
    private(set) var tls: SessionTLS = .plaintext
    /// The handshake's facts, kept for the checks after the EHLO that follows it.
    private var tlsFacts: TLSFacts?
    private var results: [[RecipientResult]]
    /// Set: the session runs on a kept connection, already past EHLO (and STARTTLS).
    let resuming: Resumption?
    /// Whether the connection may be kept for another session when this one is done.
    let keepOpen: Bool
    /// Whether the server has answered anything, or a message was reported, in this session:
    /// a kept connection that breaks before either is stale, not a failed delivery.
    private var progressed = false

    public init(
        messages: [OutboundMessage], heloName: String, mxHost: String, policy: PolicySet, useTLS: Bool = true,
        resuming: Resumption? = nil, keepOpen: Bool = false
    ) {
        self.messages = messages
        self.heloName = heloName
        self.mxHost = mxHost
        self.policy = policy
        self.useTLS = useTLS
        self.resuming = resuming
        self.keepOpen = keepOpen
        self.results = Array(repeating: [], count: messages.count)
    }

    // MARK: Events

    /// The connection is open: wait for the greeting; or, on a kept connection, judge it
    /// under this session's policies and begin the first message.
    public mutating func start() -> [Action] {
        guard let resuming else {
            state = .greeting
            return [.awaitReply(.greeting)]
        }
        return resume(resuming)
    }

    /// A kept connection is used only if this session's policies accept it exactly as a new
    /// one would have been accepted: plaintext only where they would have gone on in
    /// plaintext after EHLO, TLS only where the handshake's facts (DANE matched anew) and the
    /// extensions after it pass. Anything else is `.stale`, never a lower level.
    private mutating func resume(_ r: Resumption) -> [Action] {
        capabilities = r.capabilities
        guard let facts = r.tls else {
            guard policy.afterEHLO(starttlsOffered: capabilities.startTLS, mxHost: mxHost) == .plaintext else {
                return [.send("QUIT"), end(.stale)]
            }
            tls = SessionTLS.plaintext
            tls.reusedConnection = true
            return beginMessages()
        }
        let connection = ConnectionFacts(starttlsOffered: true, tls: facts)
        guard case .proceed(let reached) = policy.afterHandshake(connection, mxHost: mxHost),
            policy.afterSecureEHLO(capabilities, facts: connection, mxHost: mxHost) == nil
        else { return [.send("QUIT"), end(.stale)] }
        tlsFacts = facts
        tls = SessionTLS(
            reached: reached, version: facts.version, cipher: facts.cipher, certificate: facts.certificate, summary: facts.summary,
            daneAuthenticated: facts.daneAuthenticated)
        tls.reusedConnection = true
        return beginMessages()
    }

    public mutating func replied(_ reply: SMTPReply) -> [Action] {
        progressed = true
        switch state {
        case .greeting:
            guard reply.code == 220 else { return finish(.unreachable("greeting: \(reply.summary)")) }
            return sendEHLO(afterTLS: false)
        case .ehlo(let afterTLS):
            if reply.isPositiveCompletion {
                capabilities = SMTPCapabilities(ehlo: reply)
                return afterHello(afterTLS: afterTLS)
            }
            state = .helo(afterTLS: afterTLS)
            return [.send("HELO \(heloName)"), .awaitReply(.helo)]
        case .helo(let afterTLS):
            guard reply.isPositiveCompletion else { return finish(.unreachable("unexpected reply: \(reply.summary)")) }
            capabilities = SMTPCapabilities()
            return afterHello(afterTLS: afterTLS)
        case .startTLSSent:
            if reply.code == 220 {
                state = .handshaking
                return [.startTLS]
            }
            // A server that offers STARTTLS and then refuses it is treated as not offering it.
            switch policy.afterSTARTTLSRefused(mxHost: mxHost) {
            case .refuse(let failure): return refuse(failure, ConnectionFacts(starttlsOffered: false, tls: nil))
            default: return beginMessages()
            }
        case .transaction(var t):
            return transactionReply(&t, reply)
        case .resetting(let next):
            return nextMessage(next)
        case .quitting:
            return [end(.outcome(.completed(tls, results)))]
        case .idle, .handshaking, .done:
            return []
        }
    }

    /// The handshake finished; `facts` carries the negotiated version and the certificate verdict.
    public mutating func tlsEstablished(_ facts: TLSFacts) -> [Action] {
        guard state == .handshaking else { return [] }
        let connection = ConnectionFacts(starttlsOffered: true, tls: facts)
        switch policy.afterHandshake(connection, mxHost: mxHost) {
        case .refuse(let failure):
            return refuse(failure, connection)
        case .reconnectWithoutTLS:
            return [end(.retryWithoutTLS)]
        case .proceed(let reached):
            tlsFacts = facts
            // swift-nio-ssl does not expose the negotiated cipher suite.
            tls = SessionTLS(
                reached: reached, version: facts.version, cipher: facts.cipher, certificate: facts.certificate, summary: facts.summary,
                daneAuthenticated: facts.daneAuthenticated)
            return sendEHLO(afterTLS: true)
        }
    }

    /// The handshake failed. After plaintext was injected following the `220` (discarded
    /// unread), a failed handshake is never a reason to fall back to plaintext.
    public mutating func tlsFailed(injected: Bool) -> [Action] {
        guard state == .handshaking else { return [] }
        if injected { return finish(.unreachable(SMTPClientError.startTLSInjection.description)) }
        let facts = ConnectionFacts(starttlsOffered: true, tls: nil)
        switch policy.afterHandshake(facts, mxHost: mxHost) {
        case .refuse(let failure): return [end(.outcome(.policyRefused(failure, facts)))]
        default: return [end(.retryWithoutTLS)]
        }
    }

    /// The connection broke or a read timed out. Before the first transaction the host counts
    /// as unreachable; during the transactions, this and every later message is deferred.
    public mutating func connectionFailed(_ reason: String) -> [Action] {
        // A kept connection the server closed meanwhile: nothing was delivered on it.
        if resuming != nil && !progressed && state != .done { return [end(.stale)] }
        let firstLost: Int
        switch state {
        case .transaction(let t): firstLost = t.index
        case .resetting(let next): firstLost = next
        case .quitting: firstLost = messages.count  // every message was reported
        case .done: return ended.map { [.finish($0)] } ?? []
        default: return finish(.unreachable(reason))
        }
        let lost = SMTPReply.local(451, "4.4.2", "connection lost: \(reason)")
        for i in firstLost..<messages.count { results[i] = messages[i].recipients.map { _ in .temporary(lost) } }
        return [end(.outcome(.completed(tls, results)))]
    }

    // MARK: Steps

    private mutating func sendEHLO(afterTLS: Bool) -> [Action] {
        state = .ehlo(afterTLS: afterTLS)
        return [.send("EHLO \(heloName)"), .awaitReply(.ehlo)]
    }

    private mutating func afterHello(afterTLS: Bool) -> [Action] {
        if afterTLS {
            // The extensions after TLS are the ones that count (RFC 3207 §4.2): REQUIRETLS.
            let facts = ConnectionFacts(starttlsOffered: true, tls: tlsFacts)
            if let refusal = policy.afterSecureEHLO(capabilities, facts: facts, mxHost: mxHost) { return refuse(refusal, facts) }
            return beginMessages()
        }
        let decision =
            useTLS
            ? policy.afterEHLO(starttlsOffered: capabilities.startTLS, mxHost: mxHost)
            : policy.plaintextRetry(mxHost: mxHost)
        switch decision {
        case .refuse(let failure):
            return refuse(failure, ConnectionFacts(starttlsOffered: capabilities.startTLS, tls: nil))
        case .plaintext:
            return beginMessages()
        case .startTLS:
            state = .startTLSSent
            return [.send("STARTTLS"), .awaitReply(.startTLS)]
        }
    }

    /// Nothing but EHLO, STARTTLS and QUIT was sent; the QUIT reply is not waited for.
    private mutating func refuse(_ failure: PolicyRefusal, _ facts: ConnectionFacts) -> [Action] {
        [.send("QUIT"), end(.outcome(.policyRefused(failure, facts)))]
    }

    private mutating func finish(_ outcome: SessionOutcome) -> [Action] { [end(.outcome(outcome))] }

    /// The one way a session ends: remembered, so that a failure afterwards still finishes with it.
    private mutating func end(_ how: SessionEnd) -> Action {
        state = .done
        ended = how
        return .finish(how)
    }

    private mutating func beginMessages() -> [Action] { nextMessage(0) }

    private mutating func nextMessage(_ index: Int) -> [Action] {
        var actions: [Action] = []
        var i = index
        while i < messages.count {
            // Refusals decided before any command: this message is reported, the next one tried.
            if let refusal = localRefusal(messages[i]) {
                actions += report(i, messages[i].recipients.map { _ in .permanent(refusal) })
                i += 1
                continue
            }
            let t = Transaction(index: i, pipelined: capabilities.pipelining)
            state = .transaction(t)
            let commands = envelope(messages[i])
            if t.pipelined {
                actions.append(.sendPipelined(commands))
            } else {
                actions.append(.send(commands[0]))
            }
            actions.append(.awaitReply(.mailFrom))
            return actions
        }
        state = .quitting
        if keepOpen {
            // Every transaction is closed and nothing is outstanding: the server waits for MAIL.
            let kept = Resumption(capabilities: capabilities, tls: tlsFacts)
            return actions + [.keepOpen(kept), end(.outcome(.completed(tls, results)))]
        }
        return actions + [.send("QUIT"), .awaitReply(.quit)]
    }

    /// Why `m` cannot be offered to this server at all, decided before any command.
    private func localRefusal(_ m: OutboundMessage) -> SMTPReply? {
        if let limit = capabilities.sizeLimit, m.data.count > limit {
            return SMTPReply.local(552, "5.3.4", "message size \(m.data.count) exceeds the server's limit \(limit)")
        }
        if m.needsSMTPUTF8 && !capabilities.smtpUTF8 {
            return m.addressesNeedSMTPUTF8
                ? SMTPReply.local(553, "5.6.7", "non-ASCII address and the server lacks SMTPUTF8")
                : SMTPReply.local(553, "5.6.7", "the message has UTF-8 headers (a non-ASCII address) and the server lacks SMTPUTF8")
        }
        return nil
    }

    /// MAIL, one RCPT per recipient and DATA: the pipelined group of one message.
    private func envelope(_ m: OutboundMessage) -> [String] {
        var mail = "MAIL FROM:<\(m.mailFrom)>"
        if capabilities.sizeLimit != nil || capabilities.keywords.contains("SIZE") { mail += " SIZE=\(m.data.count)" }
        if m.needsSMTPUTF8 { mail += " SMTPUTF8" }
        if m.requireTLS { mail += " REQUIRETLS" }
        return [mail] + m.recipients.map { "RCPT TO:<\($0)>" } + ["DATA"]
    }

    private mutating func report(_ index: Int, _ r: [RecipientResult]) -> [Action] {
        progressed = true
        results[index] = r
        return [.messageDone(index: index, results: r, tls: tls)]
    }

    /// Reports the transaction's results, then RSET (when the server's transaction state must
    /// be cleared) or the next message.
    private mutating func end(_ t: Transaction, _ r: [RecipientResult], reset: Bool) -> [Action] {
        let done = report(t.index, r)
        if reset {
            state = .resetting(next: t.index + 1)
            return done + [.send("RSET"), .awaitReply(.rset)]
        }
        return done + nextMessage(t.index + 1)
    }

    private mutating func transactionReply(_ t: inout Transaction, _ reply: SMTPReply) -> [Action] {
        let m = messages[t.index]
        if t.bodySent {
            let accepted: RecipientResult =
                reply.isPositiveCompletion
                ? .delivered(reply)
                : reply.isPermanentFailure ? .permanent(reply) : .temporary(reply)
            let r = zip(t.rcptReplies, m.recipients).map { rcpt, _ in rcpt.isPositiveCompletion ? accepted : Self.failure(rcpt) }
            guard t.nextSent else { return end(t, r, reset: !reply.isPositiveCompletion) }
            // The next message's MAIL, RCPT and DATA followed this `.`: its replies come next.
            // Whatever this reply was, the end of data closed the transaction (RFC 5321
            // §4.1.1.4), so no RSET stands between the two.
            let done = report(t.index, r)
            state = .transaction(Transaction(index: t.index + 1, pipelined: true))
            return done + [.awaitReply(.mailFrom)]
        }
        if t.aborting {
            // The reply to the empty message that ended an unwanted DATA.
            return end(t, abortedResults(t), reset: true)
        }
        if t.mailReply == nil {
            t.mailReply = reply
            if t.pipelined {
                state = .transaction(t)
                return [.awaitReply(m.recipients.isEmpty ? .dataInit : .rcptTo)]
            }
            guard reply.isPositiveCompletion else {
                return end(t, m.recipients.map { _ in Self.failure(reply) }, reset: true)
            }
            state = .transaction(t)
            return [.send("RCPT TO:<\(m.recipients[0])>"), .awaitReply(.rcptTo)]
        }
        if t.rcptReplies.count < m.recipients.count {
            t.rcptReplies.append(reply)
            let more = t.rcptReplies.count < m.recipients.count
            state = .transaction(t)
            if t.pipelined { return [.awaitReply(more ? .rcptTo : .dataInit)] }
            if more { return [.send("RCPT TO:<\(m.recipients[t.rcptReplies.count])>"), .awaitReply(.rcptTo)] }
            guard t.rcptReplies.contains(where: \.isPositiveCompletion) else {
                return end(t, t.rcptReplies.map(Self.failure), reset: true)
            }
            return [.send("DATA"), .awaitReply(.dataInit)]
        }
        // The reply to DATA.
        t.dataReply = reply
        let mailOK = t.mailReply?.isPositiveCompletion ?? false
        let anyRecipient = t.rcptReplies.contains(where: \.isPositiveCompletion)
        if reply.code == 354 && (!mailOK || !anyRecipient) {
            // Pipelined DATA accepted although MAIL or every RCPT failed: end it empty and drop it.
            t.aborting = true
            state = .transaction(t)
            return [.sendData(Array(".\r\n".utf8)), .awaitReply(.dataTermination)]
        }
        guard reply.code == 354 else {
            if !mailOK { return end(t, m.recipients.map { _ in Self.failure(t.mailReply!) }, reset: true) }
            let r = t.rcptReplies.map { $0.isPositiveCompletion ? RecipientResult.temporary(reply) : Self.failure($0) }
            return end(t, r, reset: true)
        }
        t.bodySent = true
        // With PIPELINING the next message's envelope follows the `.` in the same write (RFC
        // 2920 §3.1: message content may begin a group, DATA ends it): one round trip per
        // message instead of two, for this client and for the server alike.
        let next = t.index + 1
        if t.pipelined, next < messages.count, localRefusal(messages[next]) == nil {
            t.nextSent = true
            state = .transaction(t)
            return [.sendData(m.data), .sendPipelined(envelope(messages[next])), .awaitReply(.dataTermination)]
        }
        state = .transaction(t)
        return [.sendData(m.data), .awaitReply(.dataTermination)]
    }

    private func abortedResults(_ t: Transaction) -> [RecipientResult] {
        let m = messages[t.index]
        if let mail = t.mailReply, !mail.isPositiveCompletion { return m.recipients.map { _ in Self.failure(mail) } }
        return t.rcptReplies.map(Self.failure)
    }

    static func failure(_ reply: SMTPReply) -> RecipientResult {
        reply.isPermanentFailure ? .permanent(reply) : .temporary(reply)
    }
}

extension OutboundMessage {
    /// RFC 6531: an envelope address with non-ASCII characters needs the SMTPUTF8 extension.
    var addressesNeedSMTPUTF8: Bool {
        !(mailFrom.allSatisfy(\.isASCII) && recipients.allSatisfy { $0.allSatisfy(\.isASCII) })
    }

    /// RFC 6531 §3.2: so does an internationalized message, whatever its envelope.
    var needsSMTPUTF8: Bool { headersNeedSMTPUTF8 || addressesNeedSMTPUTF8 }
}

extension SMTPReply {
    /// A reply made up by this client for a result no server gave (a size limit, a lost
    /// connection), so that every result carries a code and an enhanced status alike.
    public static func local(_ code: Int, _ status: String, _ text: String) -> SMTPReply {
        var reply = SMTPReply(code: code, lines: ["\(status) \(text)"])
        reply.isLocal = true
        return reply
    }
}
