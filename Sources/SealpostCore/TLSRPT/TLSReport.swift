import Foundation

/// The policy a session was judged under, as RFC 8460 §4.3 reports it.
public struct TLSRPTPolicy: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable {
        case sts
        case tlsa
        case noPolicyFound = "no-policy-found"
    }

    public var kind: Kind
    /// `policy-string`: the MTA-STS policy's lines, or the TLSA records in presentation form.
    public var strings: [String]
    /// `mx-host`: the MTA-STS `mx:` patterns, or the one MX host a TLSA policy is for.
    public var mxHosts: [String]

    public init(kind: Kind, strings: [String] = [], mxHosts: [String] = []) {
        self.kind = kind
        self.strings = strings
        self.mxHosts = mxHosts
    }

    public static let none = TLSRPTPolicy(kind: .noPolicyFound)
}

/// Sessions of one UTC day to one policy domain under one policy with one result, counted: the
/// stored unit of TLS reporting (a day's report is built from these alone).
public struct TLSRPTSession: Sendable, Hashable {
    /// Why a session failed, with the fields `failure-details` groups by.
    public struct Failure: Sendable, Hashable {
        /// An RFC 8460 result type.
        public var resultType: String
        public var sendingIP: String
        public var receivingMX: String
        public var receivingIP: String
        /// `failure-reason-code`: Sealpost's own name when RFC 8460 has none (`tls-version-too-low`).
        public var reasonCode: String?

        public init(resultType: String, sendingIP: String, receivingMX: String, receivingIP: String, reasonCode: String? = nil) {
            self.resultType = resultType
            self.sendingIP = sendingIP
            self.receivingMX = receivingMX
            self.receivingIP = receivingIP
            self.reasonCode = reasonCode
        }
    }

    /// Days since the Unix epoch (UTC).
    public var day: Int
    public var domain: String
    public var policy: TLSRPTPolicy
    /// `nil`: a successful session.
    public var failure: Failure?
    public var sessions: Int

    public init(day: Int, domain: String, policy: TLSRPTPolicy, failure: Failure?, sessions: Int) {
        self.day = day
        self.domain = domain
        self.policy = policy
        self.failure = failure
        self.sessions = sessions
    }

    /// The same session without its count (what counts are summed by).
    public var key: TLSRPTSession {
        var k = self
        k.sessions = 0
        return k
    }
}

/// A domain's `_smtp._tls` TXT record (RFC 8460 §3): where its reports go.
public enum TLSRPTRecord {
    /// The `rua` URIs of the one valid `v=TLSRPTv1` record among `texts`; `nil` when there is
    /// not exactly one (the RFC: then the domain does not implement TLSRPT), or it has no
    /// usable `rua`. Only `mailto:` and `https:` URIs are kept.
    public static func reportingURIs(_ texts: [String]) -> [String]? {
        let records = texts.filter { $0.hasPrefix("v=TLSRPTv1;") || $0 == "v=TLSRPTv1" }
        guard records.count == 1 else { return nil }
        var ruas: [String] = []
        for field in records[0].split(separator: ";").dropFirst() {
            let parts = field.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == "rua" else { continue }
            for uri in parts[1].split(separator: ",") {
                let u = uri.trimmingCharacters(in: .whitespaces)
                let lower = u.lowercased()
                if (lower.hasPrefix("mailto:") && u.contains("@")) || lower.hasPrefix("https://") { ruas.append(u) }
            }
        }
        return ruas.isEmpty ? nil : ruas
    }
}

/// One aggregate report (RFC 8460 §4): built from a day's stored sessions for one policy domain.
public struct TLSReport: Sendable {
    public var organization: String
    public var contact: String
    public var reportID: String
    public var domain: String
    /// Unix times: the day's first second, and its last (or the moment of sending, for a day
    /// reported before it ended).
    public var start: Int
    public var end: Int
    public var sessions: [TLSRPTSession]

    public init(
        organization: String, contact: String, reportID: String, domain: String, start: Int, end: Int, sessions: [TLSRPTSession]
    ) {
        self.organization = organization
        self.contact = contact
        self.reportID = reportID
        self.domain = domain
        self.start = start
        self.end = end
        self.sessions = sessions
    }

    static func iso(_ t: Int) -> String {
        let f = ISO8601DateFormatter()
        f.timeZone = TimeZone(identifier: "UTC")
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: Date(timeIntervalSince1970: TimeInterval(t)))
    }

    /// The report's JSON (RFC 8460 §4.4's field names), keys sorted so that it is reproducible.
    public func json() throws -> Data {
        var byPolicy: [TLSRPTPolicy: [TLSRPTSession]] = [:]
        for s in sessions { byPolicy[s.policy, default: []].append(s) }
        func sortKey(_ p: TLSRPTPolicy) -> String { ([p.kind.rawValue] + p.mxHosts + p.strings).joined(separator: "\u{1}") }
        let order = byPolicy.keys.sorted { sortKey($0) < sortKey($1) }
        let policies: [[String: Any]] = order.map { policy in
            let rows = byPolicy[policy] ?? []
            var failures: [TLSRPTSession.Failure: Int] = [:]
            var ok = 0
            for r in rows {
                if let f = r.failure { failures[f, default: 0] += r.sessions } else { ok += r.sessions }
            }
            var p: [String: Any] = ["policy-type": policy.kind.rawValue, "policy-domain": domain]
            if !policy.strings.isEmpty { p["policy-string"] = policy.strings }
            if !policy.mxHosts.isEmpty { p["mx-host"] = policy.mxHosts }
            var entry: [String: Any] = [
                "policy": p,
                "summary": ["total-successful-session-count": ok, "total-failure-session-count": failures.values.reduce(0, +)],
            ]
            // A total order, so that the same sessions always make the same bytes.
            func order(_ f: TLSRPTSession.Failure) -> [String] {
                [f.resultType, f.receivingMX, f.receivingIP, f.sendingIP, f.reasonCode ?? ""]
            }
            let details = failures.sorted { order($0.key).lexicographicallyPrecedes(order($1.key)) }
            if !details.isEmpty {
                entry["failure-details"] = details.map { f, n -> [String: Any] in
                    var d: [String: Any] = ["result-type": f.resultType, "failed-session-count": n]
                    if !f.sendingIP.isEmpty { d["sending-mta-ip"] = f.sendingIP }
                    if !f.receivingMX.isEmpty { d["receiving-mx-hostname"] = f.receivingMX }
                    if !f.receivingIP.isEmpty { d["receiving-ip"] = f.receivingIP }
                    if let code = f.reasonCode { d["failure-reason-code"] = code }
                    return d
                }
            }
            return entry
        }
        let report: [String: Any] = [
            "organization-name": organization,
            "date-range": ["start-datetime": Self.iso(start), "end-datetime": Self.iso(end)],
            "contact-info": contact,
            "report-id": reportID,
            "policies": policies,
        ]
        return try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys, .withoutEscapingSlashes])
    }

    /// RFC 8460 §5.3: `submitter!policy-domain!begin!end!unique-id.json.gz`.
    public func fileName(submitter: String) -> String {
        let unique = reportID.filter { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." }
        return "\(submitter)!\(domain)!\(start)!\(end)!\(unique).json.gz"
    }

    /// The report as mail (RFC 8460 §5.3): `multipart/report; report-type="tlsrpt"`, a short
    /// human part and the gzipped JSON, with `TLS-Report-Domain`, `TLS-Report-Submitter` and
    /// `TLS-Required: No` (a report about TLS failures must not be stopped by them, §5.1).
    public func message(from: String, to: String, submitter: String, gzipped: [UInt8], messageID: String, date: Date) -> [UInt8] {
        let boundary = "tlsrpt-\(messageID.filter { $0.isLetter || $0.isNumber })"
        let name = fileName(submitter: submitter)
        let base64 = Data(gzipped).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        let lines = [
            "From: \(from)",
            "To: \(to)",
            "Subject: Report Domain: \(domain) Submitter: \(submitter) Report-ID: <\(reportID)>",
            "Date: \(MessageComposer.rfc5322Date(date))",
            "Message-ID: <\(messageID)>",
            "MIME-Version: 1.0",
            "TLS-Report-Domain: \(domain)",
            "TLS-Report-Submitter: \(submitter)",
            "TLS-Required: No",
            "Content-Type: multipart/report; report-type=\"tlsrpt\";",
            "\tboundary=\"\(boundary)\"",
            "",
            "This is a multipart message in MIME format.",
            "",
            "--\(boundary)",
            "Content-Type: text/plain; charset=us-ascii",
            "Content-Transfer-Encoding: 7bit",
            "",
            "This is an aggregate TLS report (RFC 8460) from \(organization) for \(domain),",
            "\(Self.iso(start)) to \(Self.iso(end)).",
            "",
            "--\(boundary)",
            "Content-Type: application/tlsrpt+gzip",
            "Content-Transfer-Encoding: base64",
            "Content-Disposition: attachment;",
            "\tfilename=\"\(name)\"",
            "",
            base64,
            "",
            "--\(boundary)--",
            "",
        ]
        return Array(lines.joined(separator: "\r\n").utf8)
    }

    /// The first second of `day` and its last, as Unix times.
    public static func dayRange(_ day: Int) -> (start: Int, end: Int) { (day * 86_400, day * 86_400 + 86_399) }
}
