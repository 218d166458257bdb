/// What one delivery session to a recipient domain found, counted per user, domain and UTC day:
/// the "what would be blocked" report judges proposed settings against these. Aggregated so
/// storage stays bounded (one row per distinct finding per day), kept for `retentionDays`.
public struct TLSObservation: Sendable, Equatable, Hashable {
    public static let retentionDays = 30

    public var userID: Int64
    public var domain: String
    /// Days since the Unix epoch (UTC).
    public var day: Int
    /// The server offered STARTTLS (and a handshake was tried).
    public var starttls: Bool
    /// The handshake completed.
    public var encrypted: Bool
    /// `1.1`, `1.2`, `1.3`; `nil` in plaintext or below 1.1.
    public var tlsVersion: String?
    /// `valid`, `untrusted`, `host-mismatch`, `expired`, `invalid`; `nil` in plaintext.
    public var certificate: String?
    /// The chain matched a usable TLSA record (counts as verified).
    public var daneAuthenticated: Bool
    /// Messages per recipient carried or attempted in such sessions.
    public var messages: Int
    /// Unix time of the latest such session.
    public var lastSeen: Int

    public init(
        userID: Int64, domain: String, day: Int, starttls: Bool, encrypted: Bool, tlsVersion: String?, certificate: String?,
        daneAuthenticated: Bool, messages: Int, lastSeen: Int
    ) {
        self.userID = userID
        self.domain = domain
        self.day = day
        self.starttls = starttls
        self.encrypted = encrypted
        self.tlsVersion = tlsVersion
        self.certificate = certificate
        self.daneAuthenticated = daneAuthenticated
        self.messages = messages
        self.lastSeen = lastSeen
    }

    /// The same finding (everything but the counts): what rows aggregate on.
    public var finding: TLSObservation {
        var f = self
        f.messages = 0
        f.lastSeen = 0
        return f
    }
}

/// The "what would be blocked" report (`GET /v3/user/settings/enforced_tls/impact`).
public struct TLSImpactReport: Sendable, Equatable, Encodable {
    public struct Blocked: Sendable, Equatable, Encodable {
        public var domain: String
        public var messages: Int
        public var lastSeen: Int
        public var tlsFailure: TLSFailureDetail
        enum CodingKeys: String, CodingKey { case domain, messages, lastSeen = "last_seen", tlsFailure = "tls_failure" }
        public init(domain: String, messages: Int, lastSeen: Int, tlsFailure: TLSFailureDetail) {
            self.domain = domain
            self.messages = messages
            self.lastSeen = lastSeen
            self.tlsFailure = tlsFailure
        }
    }

    public struct Period: Sendable, Equatable, Encodable {
        public var start: Int
        public var end: Int
        public init(start: Int, end: Int) {
            self.start = start
            self.end = end
        }
    }

    public var settings: EnforcedTLSSettings
    public var period: Period
    public var domainsSeen: Int
    public var messagesSeen: Int
    public var wouldBlock: [Blocked]
    public var notSeenRecently: [String]

    enum CodingKeys: String, CodingKey {
        case settings, period, domainsSeen = "domains_seen", messagesSeen = "messages_seen", wouldBlock = "would_block"
        case notSeenRecently = "not_seen_recently"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(TLSCheckReport.SettingsJSON(settings), forKey: .settings)
        try c.encode(period, forKey: .period)
        try c.encode(domainsSeen, forKey: .domainsSeen)
        try c.encode(messagesSeen, forKey: .messagesSeen)
        try c.encode(wouldBlock, forKey: .wouldBlock)
        try c.encode(notSeenRecently, forKey: .notSeenRecently)
    }

    /// The last `days` UTC days up to `now`: the first day's number and the period shown.
    public static func window(days: Int, now: Int) -> (firstDay: Int, period: Period) {
        let first = now / 86_400 - days + 1
        return (first, Period(start: first * 86_400, end: now))
    }

    /// The report over `observations` of one user, each domain judged by `judge` on its latest
    /// finding (the decision function delivery uses, handed in by the delivery target).
    public static func build(
        observations: [TLSObservation], settings: EnforcedTLSSettings, entries: [DomainTLSEntry], period: Period,
        judge: (TLSObservation, EnforcedTLSSettings, [DomainTLSEntry]) -> TLSFailureDetail?
    ) -> TLSImpactReport {
        let byDomain = Dictionary(grouping: observations, by: \.domain)
        var blocked: [Blocked] = []
        for (domain, found) in byDomain {
            guard let latest = found.max(by: { $0.lastSeen < $1.lastSeen }), let failure = judge(latest, settings, entries) else {
                continue
            }
            blocked.append(
                Blocked(domain: domain, messages: found.reduce(0) { $0 + $1.messages }, lastSeen: latest.lastSeen, tlsFailure: failure))
        }
        let seen = Set(byDomain.keys)
        let quiet = entries.map(\.domain).filter { entry in
            entry.hasPrefix(".") ? !seen.contains { $0.hasSuffix(entry) } : !seen.contains(entry)
        }
        return TLSImpactReport(
            settings: settings, period: period, domainsSeen: seen.count, messagesSeen: observations.reduce(0) { $0 + $1.messages },
            wouldBlock: blocked.sorted { ($0.messages, $1.domain) > ($1.messages, $0.domain) }, notSeenRecently: quiet.sorted())
    }
}

/// The delivery decision applied to a recorded finding (implemented where the policies live).
public protocol TLSImpactJudging: Sendable {
    func wouldBlock(_ observation: TLSObservation, settings: EnforcedTLSSettings, entries: [DomainTLSEntry]) -> TLSFailureDetail?
}
