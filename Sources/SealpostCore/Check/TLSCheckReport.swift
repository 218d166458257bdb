/// The pre-flight TLS check of one recipient domain (`GET /v3/user/settings/enforced_tls/check`,
/// `sealpost check`): what the delivery engine would decide for mail to it under the given
/// settings, host by host, found by connecting (EHLO, STARTTLS, handshake, QUIT; never MAIL).
///
/// Lives in Core so the API, which may not import the delivery target, can carry it; the
/// delivery target fills it in with the engine's own decision code (`TLSChecking`).
public struct TLSCheckReport: Sendable, Equatable, Encodable {
    public struct Policies: Sendable, Equatable, Encodable {
        /// The domain entry that governs the domain (`null`: the account's setting does).
        public var domainEntry: DomainEntry?
        /// DANE: whether it is on for this server (`--dane` and a trusted resolver).
        public var dane: Bool
        /// MTA-STS: the policy mode in force for the domain (`enforce`, `testing`, `none`), or
        /// `null` without a policy or with MTA-STS off.
        public var mtaSTS: String?

        enum CodingKeys: String, CodingKey { case domainEntry = "domain_entry", dane, mtaSTS = "mta_sts" }

        public init(domainEntry: DomainEntry?, dane: Bool, mtaSTS: String?) {
            self.domainEntry = domainEntry
            self.dane = dane
            self.mtaSTS = mtaSTS
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(domainEntry, forKey: .domainEntry)
            try c.encode(dane, forKey: .dane)
            try c.encode(mtaSTS, forKey: .mtaSTS)
        }
    }

    public struct DomainEntry: Sendable, Equatable, Encodable {
        public var domain: String
        public var requireTLS: Bool
        public var requireValidCert: Bool
        public var version: Double

        enum CodingKeys: String, CodingKey { case domain, requireTLS = "require_tls", requireValidCert = "require_valid_cert", version }

        public init(_ entry: DomainTLSEntry) {
            domain = entry.domain
            requireTLS = entry.settings.requireTLS
            requireValidCert = entry.settings.requireValidCert
            version = Double(entry.settings.version.rawValue) ?? 1.1
        }
    }

    public struct Certificate: Sendable, Equatable, Encodable {
        /// `valid`, `untrusted`, `host-mismatch`, `expired`, `invalid`.
        public var verdict: String
        public var subject: String?
        public var issuer: String?
        public var notAfter: Int?
        public var dnsNames: [String]

        enum CodingKeys: String, CodingKey { case verdict, subject, issuer, notAfter = "not_after", dnsNames = "dns_names" }

        public init(verdict: String, subject: String?, issuer: String?, notAfter: Int?, dnsNames: [String]) {
            self.verdict = verdict
            self.subject = subject
            self.issuer = issuer
            self.notAfter = notAfter
            self.dnsNames = dnsNames
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(verdict, forKey: .verdict)
            try c.encode(subject, forKey: .subject)
            try c.encode(issuer, forKey: .issuer)
            try c.encode(notAfter, forKey: .notAfter)
            try c.encode(dnsNames, forKey: .dnsNames)
        }
    }

    public struct Host: Sendable, Equatable, Encodable {
        public var host: String
        /// The MX preference; `null` for a `--route` or the domain's implicit MX.
        public var preference: Int?
        public var addresses: [String]
        public var starttls: Bool
        public var tlsVersion: String?
        /// `null` without TLS.
        public var certificate: Certificate?
        /// The host's DANE state (`null`: DANE off).
        public var dane: String?
        /// The host's MTA-STS state (`null`: MTA-STS off).
        public var mtaSTS: String?
        public var wouldDeliver: Bool
        public var tlsFailure: TLSFailureDetail?
        public var reason: String?

        enum CodingKeys: String, CodingKey {
            case host, preference, addresses, starttls, tlsVersion = "tls_version", certificate, dane, mtaSTS = "mta_sts"
            case wouldDeliver = "would_deliver", tlsFailure = "tls_failure", reason
        }

        public init(host: String, preference: Int?, addresses: [String]) {
            self.host = host
            self.preference = preference
            self.addresses = addresses
            starttls = false
            wouldDeliver = false
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(host, forKey: .host)
            try c.encode(preference, forKey: .preference)
            try c.encode(addresses, forKey: .addresses)
            try c.encode(starttls, forKey: .starttls)
            try c.encode(tlsVersion, forKey: .tlsVersion)
            try c.encode(certificate, forKey: .certificate)
            try c.encode(dane, forKey: .dane)
            try c.encode(mtaSTS, forKey: .mtaSTS)
            try c.encode(wouldDeliver, forKey: .wouldDeliver)
            try c.encode(tlsFailure, forKey: .tlsFailure)
            try c.encode(reason, forKey: .reason)
        }
    }

    public var domain: String
    public var settings: EnforcedTLSSettings
    public var policies: Policies
    public var mx: [Host]
    public var wouldDeliver: Bool
    public var tlsFailure: TLSFailureDetail?
    public var reason: String?

    enum CodingKeys: String, CodingKey {
        case domain, settings, policies, mx, wouldDeliver = "would_deliver", tlsFailure = "tls_failure", reason
    }

    public init(domain: String, settings: EnforcedTLSSettings, policies: Policies) {
        self.domain = domain
        self.settings = settings
        self.policies = policies
        mx = []
        wouldDeliver = false
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(domain, forKey: .domain)
        try c.encode(SettingsJSON(settings), forKey: .settings)
        try c.encode(policies, forKey: .policies)
        try c.encode(mx, forKey: .mx)
        try c.encode(wouldDeliver, forKey: .wouldDeliver)
        try c.encode(tlsFailure, forKey: .tlsFailure)
        try c.encode(reason, forKey: .reason)
    }

    /// The settings object as the API shows it (`version` a number).
    struct SettingsJSON: Encodable {
        var requireTLS: Bool
        var requireValidCert: Bool
        var version: Double
        enum CodingKeys: String, CodingKey { case requireTLS = "require_tls", requireValidCert = "require_valid_cert", version }
        init(_ s: EnforcedTLSSettings) {
            requireTLS = s.requireTLS
            requireValidCert = s.requireValidCert
            version = Double(s.version.rawValue) ?? 1.1
        }
    }

    /// The whole-domain verdict from the hosts': delivery ends on the first host (in order)
    /// that would take the mail; when none would, the most preferred host's failure is shown.
    public mutating func conclude() {
        if mx.contains(where: \.wouldDeliver) {
            wouldDeliver = true
            tlsFailure = nil
            reason = nil
        } else if let first = mx.first {
            wouldDeliver = false
            tlsFailure = first.tlsFailure
            reason = first.reason
        }
    }
}

/// The engine's check, as the API sees it (the executable hands it the delivery target's).
public protocol TLSChecking: Sendable {
    func check(domain: String, settings: EnforcedTLSSettings, entries: [DomainTLSEntry]) async -> TLSCheckReport
}
