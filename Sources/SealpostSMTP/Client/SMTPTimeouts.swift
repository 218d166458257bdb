import NIOCore
import SealpostCore

/// Per-phase limits of RFC 5321 §4.5.3.2, plus connect. Tests shrink them.
public struct SMTPTimeouts: Sendable {
    public var connect: TimeAmount = .seconds(30)
    public var greeting: TimeAmount = .minutes(5)
    public var ehlo: TimeAmount = .minutes(5)
    public var startTLS: TimeAmount = .minutes(2)
    public var mailFrom: TimeAmount = .minutes(5)
    public var rcptTo: TimeAmount = .minutes(5)
    public var dataInit: TimeAmount = .minutes(2)
    public var dataTermination: TimeAmount = .minutes(10)
    public var quit: TimeAmount = .seconds(30)

    public init() {}

    /// The limit for a reply of this phase (RSET as MAIL: RFC 5321 gives it none of its own).
    public func limit(for phase: SMTPClientStateMachine.Phase) -> TimeAmount {
        switch phase {
        case .greeting: greeting
        case .ehlo, .helo: ehlo
        case .startTLS: startTLS
        case .mailFrom, .rset: mailFrom
        case .rcptTo: rcptTo
        case .dataInit: dataInit
        case .dataTermination: dataTermination
        case .quit: quit
        }
    }

    /// Every limit at most `amount` (the pre-flight check's bound per phase).
    public func capped(at amount: TimeAmount) -> SMTPTimeouts {
        var t = self
        t.connect = min(t.connect, amount); t.greeting = min(t.greeting, amount); t.ehlo = min(t.ehlo, amount)
        t.startTLS = min(t.startTLS, amount); t.mailFrom = min(t.mailFrom, amount); t.rcptTo = min(t.rcptTo, amount)
        t.dataInit = min(t.dataInit, amount); t.dataTermination = min(t.dataTermination, amount); t.quit = min(t.quit, amount)
        return t
    }

    /// Every limit set to `amount` (for tests against misbehaving servers).
    public static func uniform(_ amount: TimeAmount) -> SMTPTimeouts {
        var t = SMTPTimeouts()
        t.connect = amount; t.greeting = amount; t.ehlo = amount; t.startTLS = amount; t.mailFrom = amount
        t.rcptTo = amount; t.dataInit = amount; t.dataTermination = amount; t.quit = amount
        return t
    }
}

/// One message of a session: envelope and already-composed content.
public struct OutboundMessage: Sendable {
    public var id: String
    public var mailFrom: String
    public var recipients: [String]
    /// What follows DATA: the message dot-stuffed, ending in CRLF.CRLF. Built once per message
    /// per scheduling round and shared by every session that carries it (arrays are shared
    /// until written), so a large message to many domains is not copied per session.
    public var data: [UInt8]
    /// An internationalized message (UTF-8 in its headers, RFC 6532): like a non-ASCII
    /// address, it is sent only with SMTPUTF8, and refused for a server that lacks it.
    public var headersNeedSMTPUTF8: Bool
    /// RFC 8689: `MAIL FROM:<…> REQUIRETLS` is passed on. The session's policies (a
    /// `RequireTLSPolicy`) make sure the server offers it before any message.
    public var requireTLS: Bool

    public init(
        id: String, mailFrom: String, recipients: [String], data: [UInt8], headersNeedSMTPUTF8: Bool = false,
        requireTLS: Bool = false
    ) {
        self.requireTLS = requireTLS
        self.id = id
        self.mailFrom = mailFrom
        self.recipients = recipients
        self.data = data
        self.headersNeedSMTPUTF8 = headersNeedSMTPUTF8
    }

    /// From RFC 5322 text that is not yet dot-stuffed.
    public init(id: String, mailFrom: String, recipients: [String], content: [UInt8], headersNeedSMTPUTF8: Bool = false) {
        self.init(
            id: id, mailFrom: mailFrom, recipients: recipients, data: dotStuffed(content), headersNeedSMTPUTF8: headersNeedSMTPUTF8)
    }
}

/// What the server said about one recipient of one message.
public enum RecipientResult: Sendable, Equatable {
    case delivered(SMTPReply)
    case permanent(SMTPReply)
    case temporary(SMTPReply)
}

/// How a session with one host ended.
public enum SessionOutcome: Sendable, Equatable {
    /// Could not talk to the host at all (refused, timeout, 4xx/5xx greeting): try the next MX.
    case unreachable(String)
    /// The host did not meet the TLS policy. Nothing was sent beyond EHLO/STARTTLS/QUIT.
    case policyRefused(PolicyRefusal, ConnectionFacts)
    /// Results for every recipient of every message (same order as given).
    case completed(SessionTLS, [[RecipientResult]])
}

/// The TLS state of a session, as logged per delivery.
public struct SessionTLS: Sendable, Equatable {
    public var reached: ReachedLevel
    public var version: TLSVersion?
    public var cipher: String?
    /// The certificate's verdict under the trust roots (`nil` in plaintext): what a
    /// `testing` MTA-STS policy judges after the fact.
    public var certificate: CertificateVerdict?
    /// The leaf certificate's subject, issuer, expiry and names (the pre-flight check's).
    public var summary: CertificateSummary?
    /// Whether the chain matched a usable TLSA record.
    public var daneAuthenticated = false
    /// Whether the session ran on a connection kept from an earlier session (no new
    /// handshake: TLS reporting counts connections, not sessions).
    public var reusedConnection = false

    public init(
        reached: ReachedLevel, version: TLSVersion?, cipher: String?, certificate: CertificateVerdict? = nil,
        summary: CertificateSummary? = nil, daneAuthenticated: Bool = false
    ) {
        self.reached = reached
        self.version = version
        self.cipher = cipher
        self.certificate = certificate
        self.summary = summary
        self.daneAuthenticated = daneAuthenticated
    }

    public static let plaintext = SessionTLS(reached: .none, version: nil, cipher: nil)
}
