import SealpostCore

/// What DNSSEC said about one MX host, decided as Postfix's `dane` level does
/// (`smtp_tls_policy.c`, `tls_dane.c`; RFC 7672 §2.2): the lookups happen in `prepare`, these
/// are their results.
public enum DANEHostState: Sendable, Hashable {
    /// Insecure MX RRset or address records, or no TLSA records: DANE does not apply and the
    /// other policies decide.
    case notApplicable(String)
    /// TLSA records exist, none usable: TLS is required, without authentication, and
    /// `tlsa-invalid` is recorded on the delivery.
    case unusable
    /// Usable TLSA records: STARTTLS is mandatory and the certificate must match one of them.
    case usable(DANEExpectation)
    /// A lookup the decision needs (address, TLSA) was bogus or failed: this host is not
    /// used until it answers (never a downgrade).
    case lookupFailed(String)
}

/// DANE prepared for one recipient domain: per MX host, what its TLSA records demand. Its
/// refusals are temporary: the recipient's published policy is not met *yet*, so the mail is
/// deferred and retried, then bounced as blocked at the queue lifetime.
public struct PreparedDANE: PreparedPolicy, Sendable, Equatable {
    public let name = "dane"
    public var hosts: [String: DANEHostState]
    /// The MX lookup itself was bogus or failed under DNSSEC: no host may be tried.
    public var domainFailure: String?

    public init(hosts: [String: DANEHostState], domainFailure: String? = nil) {
        self.hosts = hosts
        self.domainFailure = domainFailure
    }

    func state(_ mxHost: String) -> DANEHostState {
        hosts[Self.key(mxHost)] ?? .notApplicable("not looked up")
    }

    public static func key(_ host: String) -> String {
        var h = host.lowercased()
        if h.hasSuffix(".") { h.removeLast() }
        return h
    }

    func refusal(_ failure: TLSFailure) -> PolicyRefusal {
        PolicyRefusal(policy: name, failure: failure, permanence: .temporary, status: "4.7.5", requiredLevel: .dane)
    }

    public var domainRefusal: PolicyRefusal? { domainFailure.map { _ in refusal(.dnssecInvalid) } }

    public func checkMX(_ mxHost: String) -> MXVerdict {
        if domainFailure != nil { return .refuse(refusal(.dnssecInvalid)) }
        switch state(mxHost) {
        case .notApplicable: return .use(required: .may)
        case .unusable: return .use(required: .encrypt)
        case .usable: return .use(required: .dane)
        case .lookupFailed: return .refuse(refusal(.dnssecInvalid))
        }
    }

    public func checkConnection(_ facts: ConnectionFacts, mxHost: String) -> PolicyRefusal? {
        switch state(mxHost) {
        case .notApplicable: return nil
        case .lookupFailed: return refusal(.dnssecInvalid)
        case .unusable:
            guard facts.tls != nil else { return refusal(facts.starttlsOffered ? .validationFailure : .starttlsNotSupported) }
            return nil
        case .usable:
            // Never plaintext, never unauthenticated TLS after a usable TLSA record.
            guard let tls = facts.tls else { return refusal(facts.starttlsOffered ? .validationFailure : .starttlsNotSupported) }
            return tls.daneAuthenticated ? nil : refusal(.validationFailure)
        }
    }

    public func expectation(mxHost: String) -> DANEExpectation? {
        if case .usable(let expectation) = state(mxHost) { return expectation }
        return nil
    }

    public func recorded(mxHost: String) -> [TLSFailure] {
        if case .unusable = state(mxHost) { return [.tlsaInvalid] }
        return []
    }

    /// A `tlsa` policy for a host with TLSA records (usable or not), for TLS reporting.
    public func reportPolicy(mxHost: String) -> TLSRPTPolicy? {
        switch state(mxHost) {
        case .usable(let e): TLSRPTPolicy(kind: .tlsa, strings: e.records.map(\.description), mxHosts: [Self.key(mxHost)])
        case .unusable: TLSRPTPolicy(kind: .tlsa, mxHosts: [Self.key(mxHost)])
        case .notApplicable, .lookupFailed: nil
        }
    }

    /// The host's DANE state for the per-attempt log line.
    public func describe(mxHost: String) -> String? {
        switch state(mxHost) {
        case .notApplicable(let why): "off (\(why))"
        case .unusable: "tlsa-invalid"
        case .usable(let e): "usable (\(e.records.count) TLSA)"
        case .lookupFailed(let why): "lookup failed (\(why))"
        }
    }
}
