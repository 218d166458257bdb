import SealpostSettings
import NIOCore

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
    /// RFC 5322 text, not yet dot-stuffed.
    public var content: [UInt8]

    public init(id: String, mailFrom: String, recipients: [String], content: [UInt8]) {
        self.id = id
        self.mailFrom = mailFrom
        self.recipients = recipients
        self.content = content
    }
}

/// What the server said about one recipient of one message.
public enum RecipientResult: Sendable, Equatable {
    case delivered(String)
    case permanent(String)
    case temporary(String)
}

/// How a session with one host ended.
public enum SessionOutcome: Sendable, Equatable {
    /// Could not talk to the host at all (refused, timeout, 4xx/5xx greeting): try the next MX.
    case unreachable(String)
    /// The host did not meet the TLS policy. Nothing was sent beyond EHLO/STARTTLS/QUIT.
    case policyRefused(TLSFailure, ConnectionFacts)
    /// Results for every recipient of every message (same order as given).
    case completed(SessionTLS, [[RecipientResult]])
}

/// The TLS state of a session, as logged per delivery.
public struct SessionTLS: Sendable, Equatable {
    public var reached: ReachedLevel
    public var version: TLSVersion?
    public var cipher: String?

    public init(reached: ReachedLevel, version: TLSVersion?, cipher: String?) {
        self.reached = reached
        self.version = version
        self.cipher = cipher
    }

    public static let plaintext = SessionTLS(reached: .none, version: nil, cipher: nil)
}
