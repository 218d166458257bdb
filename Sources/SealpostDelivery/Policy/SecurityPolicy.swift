import SealpostSettings

/// One source of TLS requirements (the account's Enforced TLS setting today; MTA-STS, DANE and
/// per-domain policy later). Each answers two questions about one MX host, with no I/O, so the
/// whole decision is testable without a network (the design of maddy's outbound policies).
public protocol SecurityPolicy: Sendable {
    /// A short name for logs ("enforced_tls", "mta-sts", …).
    var name: String { get }
    /// The least this policy accepts for `mxHost`.
    func requiredLevel(mxHost: String) -> SecurityLevel
    /// Why this connection is not acceptable to the policy, or `nil` if it is.
    func violation(_ facts: ConnectionFacts, mxHost: String) -> TLSFailure?
}

/// The account's Enforced TLS setting as a policy.
///
/// `require_valid_cert` implies TLS (a certificate can only be checked over TLS), so it means
/// `verify` with or without `require_tls`. `version` is a floor only when TLS is required:
/// opportunistic delivery takes whatever TLS the server offers.
public struct EnforcedTLSPolicy: SecurityPolicy, Equatable {
    public let settings: EnforcedTLSSettings
    public var name: String { "enforced_tls" }

    public init(settings: EnforcedTLSSettings) { self.settings = settings }

    public var level: SecurityLevel {
        if settings.requireValidCert { return .verify }
        if settings.requireTLS { return .encrypt }
        return .may
    }

    public func requiredLevel(mxHost: String) -> SecurityLevel { level }

    public func violation(_ facts: ConnectionFacts, mxHost: String) -> TLSFailure? {
        guard level >= .encrypt else { return nil }
        guard let tls = facts.tls else { return .starttlsNotSupported }
        guard let version = tls.version, version >= settings.version else { return .tlsVersionTooLow }
        guard level == .verify else { return nil }
        switch tls.certificate {
        case .valid: return nil
        case .untrusted: return .certificateNotTrusted
        case .hostMismatch: return .certificateHostMismatch
        case .expired: return .certificateExpired
        case .invalid: return .validationFailure
        }
    }
}

/// All policies that apply to one delivery, combined in one place: the strictest level wins and
/// the first violation found is the reason reported.
public struct PolicySet: Sendable {
    public var policies: [any SecurityPolicy]

    public init(_ policies: [any SecurityPolicy]) { self.policies = policies }

    public func requiredLevel(mxHost: String) -> SecurityLevel {
        policies.map { $0.requiredLevel(mxHost: mxHost) }.max() ?? .may
    }

    /// After EHLO: TLS is always attempted when offered (even opportunistically).
    public enum AfterEHLO: Sendable, Equatable {
        case startTLS
        case plaintext
        case refuse(TLSFailure)
    }

    public func afterEHLO(starttlsOffered: Bool, mxHost: String) -> AfterEHLO {
        if starttlsOffered { return .startTLS }
        return requiredLevel(mxHost: mxHost) >= .encrypt ? .refuse(.starttlsNotSupported) : .plaintext
    }

    /// After `STARTTLS` was refused by the server (454, 502…): same as not offered.
    public func afterSTARTTLSRefused(mxHost: String) -> AfterEHLO {
        afterEHLO(starttlsOffered: false, mxHost: mxHost)
    }

    public enum AfterHandshake: Sendable, Equatable {
        /// Go on with MAIL FROM over this connection.
        case proceed(ReachedLevel)
        /// Opportunistic only: the handshake broke the connection; deliver over a new one without STARTTLS.
        case reconnectWithoutTLS
        /// Nothing may be sent to this host.
        case refuse(TLSFailure)
    }

    /// `facts.tls == nil` means the handshake failed.
    public func afterHandshake(_ facts: ConnectionFacts, mxHost: String) -> AfterHandshake {
        guard let tls = facts.tls else {
            return requiredLevel(mxHost: mxHost) >= .encrypt ? .refuse(.validationFailure) : .reconnectWithoutTLS
        }
        for policy in policies {
            if let failure = policy.violation(facts, mxHost: mxHost) { return .refuse(failure) }
        }
        return .proceed(tls.reached)
    }

    /// For a plaintext session that the EHLO decision allowed.
    public func allowsPlaintext(mxHost: String) -> Bool { requiredLevel(mxHost: mxHost) < .encrypt }
}

/// How one recipient's delivery attempt over all MX hosts ends.
public enum HostOutcome: Sendable, Equatable {
    /// With the server's final reply.
    case delivered(String)
    /// 5xx for this recipient.
    case permanentFailure(String)
    /// Connection refused or timed out, 4xx: try again later.
    case temporaryFailure(String)
    /// The host did not meet the TLS policy; nothing was sent to it.
    case policyFailure(TLSFailure)
}

public enum RecipientFate: Sendable, Equatable {
    case delivered(String)
    case bounced(String)
    case deferred(String)
    /// Enforced TLS: no host met the policy. Dropped, not retried.
    case blocked(TLSFailure)

    /// Combines the outcomes of the MX hosts tried in order. A policy failure on every host
    /// is a block; a temporary failure on any host that was not refused by policy means
    /// "try later" (that host may meet the policy once it answers).
    public static func combine(_ outcomes: [HostOutcome]) -> RecipientFate {
        var firstPolicy: TLSFailure?
        var temporary: String?
        for outcome in outcomes {
            switch outcome {
            case .delivered(let reply): return .delivered(reply)
            case .permanentFailure(let reason): return .bounced(reason)
            case .temporaryFailure(let reason): temporary = temporary ?? reason
            case .policyFailure(let failure): firstPolicy = firstPolicy ?? failure
            }
        }
        if let temporary { return .deferred(temporary) }
        if let firstPolicy { return .blocked(firstPolicy) }
        return .deferred("no mail exchanger could be tried")
    }
}
