/// A per-recipient-domain Enforced TLS entry, Sealpost's extension in the manner of Postfix's
/// `smtp_tls_policy_maps`: for mail to its domain it replaces the account's setting, stricter or
/// looser. `domain` is either a domain (`example.com`) or a dot form (`.example.com`) that
/// matches every subdomain but not the domain itself (Postfix's convention).
public struct DomainTLSEntry: Sendable, Equatable {
    /// Normalised: lower-case A-labels, with the leading dot of a dot entry kept.
    public var domain: String
    public var settings: EnforcedTLSSettings

    public init(domain: String, settings: EnforcedTLSSettings) {
        self.domain = domain
        self.settings = settings
    }

    /// `{"domain": …, "require_tls": …, "require_valid_cert": …, "version": …}`, stable bytes as
    /// the account object's `json`.
    public var json: String {
        "{\"domain\":\"\(domain)\"," + settings.json.dropFirst()
    }

    /// The stored form of a `{domain}` path segment: case folded, IDNA A-labels, at most one
    /// leading dot, 253 characters in all. Nil for anything that is not a domain name: an IP
    /// address, `[IP]`, a port, a single label, an empty label, a trailing dot, characters outside
    /// host names, a last label that does not begin with a letter (no top-level domain does).
    /// `asciiOnly` (the API's path) refuses U-labels, so the OpenAPI pattern states the rule.
    public static func normalize(_ text: String, asciiOnly: Bool = false) -> String? {
        if asciiOnly && !text.allSatisfy(\.isASCII) { return nil }
        let dot = text.hasPrefix(".")
        let name = dot ? String(text.dropFirst()) : text
        guard !name.isEmpty, !name.hasPrefix("."), let ascii = IDNA.toASCII(name)?.lowercased() else { return nil }
        let labels = ascii.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy(isHostLabel) else { return nil }
        // A dotted quad is an address, not a domain.
        guard let first = labels.last?.first, first.isLetter else { return nil }
        let stored = dot ? "." + ascii : ascii
        return stored.utf8.count <= 253 ? stored : nil
    }

    public static func isHostLabel(_ label: Substring) -> Bool {
        guard let first = label.first, let last = label.last, first != "-", last != "-", label.utf8.count <= 63 else { return false }
        return label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
    }

    /// The entry that governs mail to `domain` (already an A-label domain): the exact entry if
    /// there is one, else the dot entry of the nearest parent (`.b.example.com` before
    /// `.example.com` for `a.b.example.com`), else none.
    public static func governing(_ domain: String, in entries: [DomainTLSEntry]) -> DomainTLSEntry? {
        let domain = domain.lowercased()
        var byDomain: [String: DomainTLSEntry] = [:]
        for e in entries { byDomain[e.domain] = e }
        if let exact = byDomain[domain] { return exact }
        var rest = Substring(domain)
        while let dot = rest.firstIndex(of: ".") {
            rest = rest[dot...]
            if let entry = byDomain[String(rest)] { return entry }
            rest = rest.dropFirst()
        }
        return nil
    }
}
