import SealpostCore

/// One source of TLS requirements, in the shape of maddy's outbound security policies
/// (`internal/target/remote/security.go`): a policy is made for one delivery, `prepare`s for
/// the recipient domain before any connection (the account's setting today; DNS for DANE, an
/// HTTPS fetch for MTA-STS and the store for per-domain entries later), and the prepared
/// policy then answers, with no I/O, whether an MX host may be used at all and whether a
/// connection's facts are acceptable.
public protocol SecurityPolicy: Sendable {
    /// A short name for logs and `tls_failure.policy` ("enforced_tls", "mta-sts", …).
    var name: String { get }
    /// Lookups for `domain`, bounded by timeouts. A thrown error defers the delivery without
    /// connecting (fail closed): it never lowers the level.
    func prepare(domain: String) async throws -> any PreparedPolicy
}

/// A policy ready for one recipient domain: pure answers about MX hosts and connections.
public protocol PreparedPolicy: Sendable {
    var name: String { get }
    /// Before connecting to `mxHost`: may it be used, and at what level at least.
    func checkMX(_ mxHost: String) -> MXVerdict
    /// After EHLO, STARTTLS and the handshake (`facts.tls == nil`: no TLS, or the handshake
    /// failed): why this connection may not carry the mail, or `nil` if it may.
    func checkConnection(_ facts: ConnectionFacts, mxHost: String) -> PolicyRefusal?
    /// The usable TLSA records a connection to `mxHost` is matched against (DANE only).
    func expectation(mxHost: String) -> DANEExpectation?
    /// A refusal of the whole domain before any host (a bogus MX lookup under DANE).
    var domainRefusal: PolicyRefusal? { get }
    /// Failures recorded on a delivery that still goes ahead (`tlsa-invalid`,
    /// `sts-policy-fetch-error`), for its event and TLS reporting.
    func recorded(mxHost: String) -> [TLSFailure]
    /// What the policy knows of `mxHost`, for the per-attempt log line (`nil`: nothing to say).
    func describe(mxHost: String) -> String?
    /// A policy in report-only mode (`testing`): what it would have refused of a delivery
    /// that went ahead (`tls == nil`: in plaintext).
    func wouldRefuse(mxHost: String, tls: SessionTLS?) -> TLSFailure?
    /// Steps aside for hosts with usable TLSA records (MTA-STS, RFC 8461 §2: DANE governs them).
    var yieldsToDANE: Bool { get }
    /// After the EHLO that follows a handshake the policies accepted: whether the server's
    /// extensions let the mail go (REQUIRETLS needs the server to offer REQUIRETLS).
    func checkExtensions(_ capabilities: SMTPCapabilities, facts: ConnectionFacts, mxHost: String) -> PolicyRefusal?
    /// The published policy a session with `mxHost` is reported under (TLS-RPT): DANE's TLSA
    /// records, MTA-STS's policy; `nil` for the sender's own policies.
    func reportPolicy(mxHost: String) -> TLSRPTPolicy?
}

extension PreparedPolicy {
    public func expectation(mxHost: String) -> DANEExpectation? { nil }
    public var domainRefusal: PolicyRefusal? { nil }
    public func recorded(mxHost: String) -> [TLSFailure] { [] }
    public func describe(mxHost: String) -> String? { nil }
    public func wouldRefuse(mxHost: String, tls: SessionTLS?) -> TLSFailure? { nil }
    public var yieldsToDANE: Bool { false }
    public func checkExtensions(_ capabilities: SMTPCapabilities, facts: ConnectionFacts, mxHost: String) -> PolicyRefusal? { nil }
    public func reportPolicy(mxHost: String) -> TLSRPTPolicy? { nil }
}

public enum MXVerdict: Sendable, Equatable {
    case use(required: SecurityLevel)
    case refuse(PolicyRefusal)
}

/// Why a policy refused a host or a connection, and how final that is.
public struct PolicyRefusal: Sendable, Equatable {
    public enum Permanence: Sendable, Equatable {
        /// Try again later (a recipient's published policy, a lookup that failed).
        case temporary
        /// The sender's own requirement: the mail is dropped with a block event.
        case permanent
    }

    public var policy: String
    public var failure: TLSFailure
    public var permanence: Permanence
    /// RFC 3463 enhanced status for the event (`5.7.10`: encryption needed, RFC 5248).
    public var status: String
    /// The level the refusing policy asks for, when it refused a host before any connection
    /// (no level was fixed for it then): `tls_failure.required_level`.
    public var requiredLevel: SecurityLevel?
    /// The block event's `reason` when it is not the Enforced TLS one (REQUIRETLS names itself).
    public var reason: String?

    public init(
        policy: String, failure: TLSFailure, permanence: Permanence, status: String, requiredLevel: SecurityLevel? = nil,
        reason: String? = nil
    ) {
        self.reason = reason
        self.policy = policy
        self.failure = failure
        self.permanence = permanence
        self.status = status
        self.requiredLevel = requiredLevel
    }
}

/// The account's Enforced TLS setting as a policy.
///
/// `require_valid_cert` implies TLS (a certificate can only be checked over TLS), so it means
/// `verify` with or without `require_tls`. `version` is a floor only when TLS is required:
/// opportunistic delivery takes whatever TLS the server offers. Its refusals are permanent:
/// the mail is dropped with the block event `TLS required but not supported`.
public struct EnforcedTLSPolicy: SecurityPolicy, PreparedPolicy, Hashable {
    public let settings: EnforcedTLSSettings
    /// `enforced_tls` for the account's setting, `domain` for a per-domain entry (which has the
    /// same three fields, the same ladder and the same permanent refusals).
    public let name: String

    public init(settings: EnforcedTLSSettings, name: String = "enforced_tls") {
        self.settings = settings
        self.name = name
    }

    /// What governs mail to `domain`: its per-domain entry if one matches (it replaces the
    /// account's setting, stricter or looser), else the account's setting.
    public static func governing(account: EnforcedTLSSettings, entries: [DomainTLSEntry], domain: String) -> EnforcedTLSPolicy {
        if let entry = DomainTLSEntry.governing(domain, in: entries) { return EnforcedTLSPolicy(settings: entry.settings, name: "domain") }
        return EnforcedTLSPolicy(settings: account)
    }

    public var level: SecurityLevel {
        if settings.requireValidCert { return .verify }
        if settings.requireTLS { return .encrypt }
        return .may
    }

    /// The setting was read before the delivery started (a failed read defers it there).
    public func prepare(domain: String) async throws -> any PreparedPolicy { self }

    public func checkMX(_ mxHost: String) -> MXVerdict { .use(required: level) }

    public func checkConnection(_ facts: ConnectionFacts, mxHost: String) -> PolicyRefusal? {
        violation(facts).map { PolicyRefusal(policy: name, failure: $0, permanence: .permanent, status: "5.7.10") }
    }

    func violation(_ facts: ConnectionFacts) -> TLSFailure? {
        guard level >= .encrypt else { return nil }
        guard let tls = facts.tls else { return facts.starttlsOffered ? .validationFailure : .starttlsNotSupported }
        guard let version = tls.version, version >= settings.version else { return .tlsVersionTooLow }
        guard level == .verify, !tls.daneAuthenticated else { return nil }
        return tls.certificate.failure
    }
}

/// All prepared policies of one delivery, combined in one place and as a pure function of
/// their answers: the strictest level wins, the first refusal found is the reason reported.
public struct PolicySet: Sendable {
    public var policies: [any PreparedPolicy]

    public init(_ policies: [any PreparedPolicy]) { self.policies = policies }

    /// Prepares every policy for `domain`; the first error is thrown (the caller defers).
    public static func prepare(_ policies: [any SecurityPolicy], domain: String) async throws -> PolicySet {
        var prepared: [any PreparedPolicy] = []
        for policy in policies { prepared.append(try await policy.prepare(domain: domain)) }
        return PolicySet(prepared)
    }

    /// The TLSA records the chain presented by `mxHost` is matched against, if any.
    public func expectation(mxHost: String) -> DANEExpectation? {
        for policy in policies { if let e = policy.expectation(mxHost: mxHost) { return e } }
        return nil
    }

    /// A policy that rules out the whole domain before any host is tried.
    public var domainRefusal: PolicyRefusal? { policies.lazy.compactMap(\.domainRefusal).first }

    /// The policies that speak for `mxHost`: all, but those that yield to DANE when it has
    /// usable TLSA records.
    func active(_ mxHost: String) -> [any PreparedPolicy] {
        guard expectation(mxHost: mxHost) != nil else { return policies }
        return policies.filter { !$0.yieldsToDANE }
    }

    /// What the policies record on a delivery through `mxHost` that goes ahead.
    public func recorded(mxHost: String) -> [TLSFailure] { active(mxHost).flatMap { $0.recorded(mxHost: mxHost) } }

    /// What a policy in `testing` mode would have refused on this delivery (MTA-STS).
    public func violation(mxHost: String, tls: SessionTLS?) -> TLSFailure? {
        active(mxHost).lazy.compactMap { $0.wouldRefuse(mxHost: mxHost, tls: tls) }.first
    }

    /// What the policy named `name` knows of `mxHost` (`nil`: no such policy, or nothing to say).
    public func describe(policy name: String, mxHost: String) -> String? {
        policies.first { $0.name == name }?.describe(mxHost: mxHost)
    }

    /// `dane=… mta-sts=…` for the per-attempt log line.
    public func describe(mxHost: String) -> String {
        let parts = active(mxHost).compactMap { p in p.describe(mxHost: mxHost).map { "\(p.name)=\($0)" } }
        return parts.isEmpty ? "-" : parts.joined(separator: " ")
    }

    /// Whether `mxHost` may be tried, and the level it must reach.
    public func checkMX(_ mxHost: String) -> MXVerdict {
        var level = SecurityLevel.may
        for policy in active(mxHost) {
            switch policy.checkMX(mxHost) {
            case .refuse(let refusal): return .refuse(refusal)
            case .use(let required): level = max(level, required)
            }
        }
        return .use(required: level)
    }

    /// The policy whose requirement is the level at `mxHost` (`opportunistic` when none asks
    /// for more than `may`), for the per-attempt log line.
    public func levelSource(mxHost: String) -> String {
        var best: (level: SecurityLevel, name: String) = (.may, "opportunistic")
        for policy in active(mxHost) {
            if case .use(let level) = policy.checkMX(mxHost), level > best.level { best = (level, policy.name) }
        }
        return best.name
    }

    public func requiredLevel(mxHost: String) -> SecurityLevel {
        if case .use(let level) = checkMX(mxHost) { return level }
        return .verify
    }

    /// After EHLO: TLS is always attempted when offered (even opportunistically).
    public enum AfterEHLO: Sendable, Equatable {
        case startTLS
        case plaintext
        case refuse(PolicyRefusal)
    }

    public func afterEHLO(starttlsOffered: Bool, mxHost: String) -> AfterEHLO {
        if starttlsOffered { return .startTLS }
        if let refusal = firstRefusal(ConnectionFacts(starttlsOffered: false, tls: nil), mxHost: mxHost) { return .refuse(refusal) }
        return .plaintext
    }

    /// After `STARTTLS` was refused by the server (454, 502…): same as not offered.
    public func afterSTARTTLSRefused(mxHost: String) -> AfterEHLO {
        afterEHLO(starttlsOffered: false, mxHost: mxHost)
    }

    public enum AfterHandshake: Sendable, Equatable {
        /// Go on with MAIL FROM over this connection.
        case proceed(ReachedLevel)
        /// The handshake broke the connection and every policy accepts plaintext: deliver
        /// over a new connection without STARTTLS.
        case reconnectWithoutTLS
        /// Nothing may be sent to this host.
        case refuse(PolicyRefusal)
    }

    /// `facts.tls == nil` means the handshake failed.
    public func afterHandshake(_ facts: ConnectionFacts, mxHost: String) -> AfterHandshake {
        if let refusal = firstRefusal(facts, mxHost: mxHost) { return .refuse(refusal) }
        guard let tls = facts.tls else { return .reconnectWithoutTLS }
        return .proceed(tls.reached)
    }

    /// For the plaintext retry after a failed handshake: the same question as after EHLO
    /// on a server that offered STARTTLS but could not complete it.
    public func plaintextRetry(mxHost: String) -> AfterEHLO {
        if let refusal = firstRefusal(ConnectionFacts(starttlsOffered: true, tls: nil), mxHost: mxHost) { return .refuse(refusal) }
        return .plaintext
    }

    /// What a session with `mxHost` is reported under: the first published policy that speaks
    /// for it (DANE where it has TLSA records, else MTA-STS), or `no-policy-found`.
    public func reportPolicy(mxHost: String) -> TLSRPTPolicy {
        active(mxHost).lazy.compactMap { $0.reportPolicy(mxHost: mxHost) }.first ?? .none
    }

    /// After the EHLO over TLS: the first policy that refuses the server's extensions.
    public func afterSecureEHLO(_ capabilities: SMTPCapabilities, facts: ConnectionFacts, mxHost: String) -> PolicyRefusal? {
        active(mxHost).lazy.compactMap { $0.checkExtensions(capabilities, facts: facts, mxHost: mxHost) }.first
    }

    private func firstRefusal(_ facts: ConnectionFacts, mxHost: String) -> PolicyRefusal? {
        for policy in active(mxHost) {
            if let refusal = policy.checkConnection(facts, mxHost: mxHost) { return refusal }
        }
        return nil
    }
}

/// How one recipient's delivery attempt at one MX host ended.
public enum HostOutcome: Sendable, Equatable {
    /// With the server's final reply.
    case delivered(SMTPReply)
    /// 5xx for this recipient.
    case permanentFailure(SMTPReply)
    /// Connection refused or timed out, 4xx: try again later.
    case temporaryFailure(SMTPReply)
    /// The host or the connection did not meet a policy; nothing was sent to it.
    case policyFailure(PolicyRefusal)
}

public enum RecipientFate: Sendable, Equatable {
    case delivered(SMTPReply)
    case bounced(SMTPReply)
    /// Try again later; with the policy refusal when a policy's temporary failure was the reason.
    case deferred(SMTPReply, PolicyRefusal?)
    /// The sender's own policy: no host met it. Dropped, not retried.
    case blocked(PolicyRefusal)

    /// Combines the outcomes of the MX hosts tried in order. A permanent policy refusal on
    /// every host is a block; a temporary failure on any host, a policy's or the network's,
    /// means "try later" (that host may meet the policy once it answers).
    public static func combine(_ outcomes: [HostOutcome]) -> RecipientFate {
        var permanentRefusal: PolicyRefusal?
        var temporaryRefusal: PolicyRefusal?
        var temporary: SMTPReply?
        for outcome in outcomes {
            switch outcome {
            case .delivered(let reply): return .delivered(reply)
            case .permanentFailure(let reply): return .bounced(reply)
            case .temporaryFailure(let reply): temporary = temporary ?? reply
            case .policyFailure(let refusal):
                if refusal.permanence == .permanent {
                    permanentRefusal = permanentRefusal ?? refusal
                } else {
                    temporaryRefusal = temporaryRefusal ?? refusal
                }
            }
        }
        if let temporary { return .deferred(temporary, nil) }
        if let temporaryRefusal {
            return .deferred(
                .local(451, "4.7.5", "TLS policy \(temporaryRefusal.policy) not met: \(temporaryRefusal.failure.rawValue)"),
                temporaryRefusal)
        }
        if let permanentRefusal { return .blocked(permanentRefusal) }
        return .deferred(.local(451, "4.4.0", "no mail exchanger could be tried"), nil)
    }
}
