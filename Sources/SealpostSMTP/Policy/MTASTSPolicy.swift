import SealpostCore

/// MTA-STS (RFC 8461) prepared for one recipient domain: the policy in force (fetched now or
/// from the store's cache), or none. Pure answers:
///
/// - `enforce`: MX hosts matching no `mx:` pattern are never connected to; the others need
///   STARTTLS and a certificate valid under the trust roots for the MX name.
/// - `testing`: delivered as without a policy, with what would have failed recorded
///   (`tls_policy_violation`).
/// - `none`, or no policy: nothing, but a failed fetch is recorded (`sts-policy-fetch-error`).
///
/// Its refusals are temporary (the recipient's published policy). Where usable TLSA records
/// exist for an MX, DANE governs that host and this policy is not asked (RFC 8461 §2).
public struct PreparedMTASTS: PreparedPolicy, Sendable, Equatable {
    public let name = "mta-sts"
    public var policy: MTASTSPolicyText?
    /// Failures to record on every delivery (a fetch that failed with no cached policy).
    public var fetchFailure: TLSFailure?

    public init(policy: MTASTSPolicyText?, fetchFailure: TLSFailure? = nil) {
        self.policy = policy
        self.fetchFailure = fetchFailure
    }

    public var yieldsToDANE: Bool { true }

    func refusal(_ failure: TLSFailure) -> PolicyRefusal {
        PolicyRefusal(policy: name, failure: failure, permanence: .temporary, status: "4.7.5", requiredLevel: .verify)
    }

    public func checkMX(_ mxHost: String) -> MXVerdict {
        guard let policy, policy.mode == .enforce else { return .use(required: .may) }
        // RFC 8460 has no result type of its own for an MX outside the policy.
        guard policy.matches(mxHost: mxHost) else { return .refuse(refusal(.validationFailure)) }
        return .use(required: .verify)
    }

    public func checkConnection(_ facts: ConnectionFacts, mxHost: String) -> PolicyRefusal? {
        guard let policy, policy.mode == .enforce else { return nil }
        return Self.failure(facts, matches: policy.matches(mxHost: mxHost)).map(refusal)
    }

    /// What enforcing would refuse of this connection.
    static func failure(_ facts: ConnectionFacts, matches: Bool) -> TLSFailure? {
        guard matches else { return .validationFailure }
        guard let tls = facts.tls else { return facts.starttlsOffered ? .validationFailure : .starttlsNotSupported }
        return tls.certificate.failure
    }

    public func wouldRefuse(mxHost: String, tls: SessionTLS?) -> TLSFailure? {
        guard let policy, policy.mode == .testing else { return nil }
        let facts: ConnectionFacts
        if let tls, tls.reached != .none {
            facts = ConnectionFacts(starttlsOffered: true, tls: TLSFacts(version: tls.version, certificate: tls.certificate ?? .invalid))
        } else {
            facts = ConnectionFacts(starttlsOffered: false, tls: nil)
        }
        return Self.failure(facts, matches: policy.matches(mxHost: mxHost))
    }

    public func recorded(mxHost: String) -> [TLSFailure] { fetchFailure.map { [$0] } ?? [] }

    /// An `sts` policy (its lines as `policy-string`, its `mx:` patterns as `mx-host`) while one
    /// in `enforce` or `testing` mode is in force, for TLS reporting.
    public func reportPolicy(mxHost: String) -> TLSRPTPolicy? {
        guard let policy, policy.mode != .none else { return nil }
        let lines = ["version: STSv1", "mode: \(policy.mode.rawValue)"] + policy.mx.map { "mx: \($0)" } + ["max_age: \(policy.maxAge)"]
        return TLSRPTPolicy(kind: .sts, strings: lines, mxHosts: policy.mx)
    }

    public func describe(mxHost: String) -> String? {
        guard let policy else { return fetchFailure.map { "none (\($0.rawValue))" } ?? "none" }
        return "\(policy.mode.rawValue)\(policy.mode == .none || policy.matches(mxHost: mxHost) ? "" : " (mx not in policy)")"
    }
}
