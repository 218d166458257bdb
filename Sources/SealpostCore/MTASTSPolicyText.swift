import Foundation

/// An MTA-STS policy (RFC 8461 §3.2) as parsed from `/.well-known/mta-sts.txt`.
public struct MTASTSPolicyText: Sendable, Equatable {
    public enum Mode: String, Sendable, Equatable {
        case enforce, testing, none
    }

    public var mode: Mode
    /// `mx:` patterns, lower-case: exact names or `*.` and one leftmost label.
    public var mx: [String]
    /// Seconds the policy may be cached (at most a year, RFC 8461 §3.2).
    public var maxAge: Int

    public init(mode: Mode, mx: [String], maxAge: Int) {
        self.mode = mode
        self.mx = mx
        self.maxAge = maxAge
    }

    public static let maxMaxAge = 31_557_600

    /// Parses the policy body; `nil` when it is not a valid STSv1 policy (unknown keys are
    /// ignored, as the RFC's extension rule says; `mx` is required unless the mode is none).
    public static func parse(_ text: String) -> MTASTSPolicyText? {
        var version: String?
        var mode: Mode?
        var maxAge: Int?
        var mx: [String] = []
        for raw in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            let line = raw.hasSuffix("\r") ? raw.dropLast() : raw[...]
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            switch key {
            case "version": version = value
            case "mode": mode = Mode(rawValue: value)
            case "max_age":
                guard let n = Int(value), n >= 0, value.allSatisfy(\.isASCIIDigit) else { return nil }
                maxAge = min(n, maxMaxAge)
            case "mx": mx.append(value.lowercased())
            default: continue
            }
        }
        guard version == "STSv1", let mode, let maxAge else { return nil }
        if mode != .none && mx.isEmpty { return nil }
        return MTASTSPolicyText(mode: mode, mx: mx, maxAge: maxAge)
    }

    /// RFC 8461 §4.1: an exact match, or `*.` matching exactly one leftmost label.
    public func matches(mxHost: String) -> Bool {
        var host = mxHost.lowercased()
        if host.hasSuffix(".") { host.removeLast() }
        return mx.contains { pattern in
            if pattern.hasPrefix("*.") {
                let suffix = pattern.dropFirst(1)  // ".example.com"
                guard host.hasSuffix(suffix) else { return false }
                let label = host.dropLast(suffix.count)
                return !label.isEmpty && !label.contains(".")
            }
            return host == pattern
        }
    }

    /// The `_mta-sts` TXT record's `id`, when the record is a valid STSv1 record
    /// (RFC 8461 §3.1: `v=STSv1` first, `id` 1–32 alphanumerics).
    public static func txtID(_ record: String) -> String? {
        let fields = record.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard fields.first == "v=STSv1" else { return nil }
        for field in fields.dropFirst() where field.hasPrefix("id=") {
            let id = String(field.dropFirst(3))
            guard (1...32).contains(id.count), id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber) }) else { return nil }
            return id
        }
        return nil
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

/// A fetched policy as the store keeps it, shared by every node and kept across restarts.
public struct CachedMTASTSPolicy: Sendable, Equatable {
    public var domain: String
    /// The TXT record's `id` the policy was fetched for.
    public var id: String
    /// The policy body as fetched (parsed again on every read).
    public var text: String
    public var fetchedAt: Date
    /// `fetchedAt + max_age`.
    public var expiresAt: Date

    public init(domain: String, id: String, text: String, fetchedAt: Date, expiresAt: Date) {
        self.domain = domain
        self.id = id
        self.text = text
        self.fetchedAt = fetchedAt
        self.expiresAt = expiresAt
    }
}
