import Foundation
import SealpostCore

/// How values are written into and read from rows, the same on every backend (so a database
/// could move between them and the contract suite judges one algorithm, not two copies).
public enum RowCoding {
    /// The three settings columns (`version` as text) of `enforced_tls` and `domain_tls`.
    public static func settings(requireTLS: Bool, requireValidCert: Bool, version: String) throws -> EnforcedTLSSettings {
        guard let v = TLSVersion(rawValue: version) else { throw StoreError.notFound("TLS version \(version)") }
        return EnforcedTLSSettings(requireTLS: requireTLS, requireValidCert: requireValidCert, version: v)
    }

    /// A settings object stored as its canonical JSON (audit trails); nil stays nil.
    public static func settings(json: String?) throws -> EnforcedTLSSettings? {
        guard let json else { return nil }
        return try JSONDecoder().decode(EnforcedTLSSettings.self, from: Data(json.utf8))
    }

    /// `categories` and `custom_args` as JSON text, keys sorted (stable bytes for equal values).
    public static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    public static func decode<T: Decodable>(_ type: T.Type, json text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }

    /// A key's scopes: `NULL` for full access, else the sorted JSON array.
    public static func scopes(_ grant: ScopeGrant) throws -> String? {
        switch grant {
        case .fullAccess: return nil
        case .scopes(let set): return try json(set.sorted())
        }
    }

    public static func grant(_ text: String?) throws -> ScopeGrant {
        guard let text else { return .fullAccess }
        return .scopes(Set(try decode([String].self, json: text)))
    }

    /// The routing domain of a recipient: what follows the last `@`, lower-cased.
    public static func domain(ofRecipient address: String) -> String {
        address.split(separator: "@").last.map { $0.lowercased() } ?? ""
    }

    /// SendGrid's blocks `email` filter as a `LIKE … ESCAPE '\'` pattern: a prefix match in
    /// which `%` stays a wildcard and `_` is literal.
    public static func likePrefix(_ prefix: String) -> String {
        prefix.lowercased().replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "_", with: "\\_") + "%"
    }

    /// A webhook's per-event switches as JSON text, and back (unreadable text: all off).
    public static func webhookEvents(_ events: [String: Bool]) throws -> String { try json(events) }

    public static func webhookEvents(json text: String) -> [String: Bool] {
        (try? decode([String: Bool].self, json: text)) ?? [:]
    }

    /// Fetched events of one user split into the ones its webhook wants (posted) and the
    /// others (marked done at once), order kept.
    public static func split<ID>(
        _ events: [(id: ID, event: String, payload: String)], for settings: WebhookSettings
    )
        -> (wanted: [(id: ID, payload: String)], skipped: [ID])
    {
        var wanted: [(id: ID, payload: String)] = []
        var skipped: [ID] = []
        for e in events {
            if settings.wants(e.event) { wanted.append((e.id, e.payload)) } else { skipped.append(e.id) }
        }
        return (wanted, skipped)
    }
}
