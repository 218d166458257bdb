import Foundation

/// The minimum TLS protocol version an account demands of receiving servers.
///
/// Kept as an enum rather than a `Double` so that the wire form is always exactly
/// `1.1`, `1.2` or `1.3` and never a binary-floating-point artefact such as `1.1000000000000001`.
public enum TLSVersion: String, Sendable, CaseIterable, Comparable, Codable, Hashable {
    case v1_1 = "1.1"
    case v1_2 = "1.2"
    case v1_3 = "1.3"

    /// Accepts the JSON number SendGrid documents (`1.2`); `Double` equality is exact here
    /// because a decoder turns the literal `1.2` into the same double as the Swift literal.
    public init?(number: Double) {
        switch number {
        case 1.1: self = .v1_1
        case 1.2: self = .v1_2
        case 1.3: self = .v1_3
        default: return nil
        }
    }

    /// Accepts the string form (`"1.2"`) some clients send.
    public init?(text: String) {
        self.init(rawValue: text.trimmingCharacters(in: .whitespaces))
    }

    /// The literal JSON number, written from the raw string so no float formatting is involved.
    public var jsonNumber: String { rawValue }

    private var rank: Int {
        switch self {
        case .v1_1: 1
        case .v1_2: 2
        case .v1_3: 3
        }
    }

    public static func < (lhs: TLSVersion, rhs: TLSVersion) -> Bool { lhs.rank < rhs.rank }
}

/// One user's Enforced TLS setting, exactly SendGrid's three fields.
public struct EnforcedTLSSettings: Sendable, Hashable, Codable {
    public var requireTLS: Bool
    public var requireValidCert: Bool
    public var version: TLSVersion

    /// What every new account, subuser and customer account starts with (SendGrid's default:
    /// opportunistic TLS, minimum version 1.1).
    public static let `default` = EnforcedTLSSettings(requireTLS: false, requireValidCert: false, version: .v1_1)

    public init(requireTLS: Bool, requireValidCert: Bool, version: TLSVersion) {
        self.requireTLS = requireTLS
        self.requireValidCert = requireValidCert
        self.version = version
    }

    enum CodingKeys: String, CodingKey {
        case requireTLS = "require_tls"
        case requireValidCert = "require_valid_cert"
        case version
    }

    /// The canonical JSON object, with `version` written as a bare number.
    ///
    /// Hand-written so the output is byte-for-byte stable (key order, number format),
    /// which is what clients comparing responses and our own audit trail rely on.
    public var json: String {
        "{\"require_tls\":\(requireTLS),\"require_valid_cert\":\(requireValidCert),\"version\":\(version.jsonNumber)}"
    }

    public func applying(_ patch: EnforcedTLSPatch) -> EnforcedTLSSettings {
        EnforcedTLSSettings(
            requireTLS: patch.requireTLS ?? requireTLS,
            requireValidCert: patch.requireValidCert ?? requireValidCert,
            version: patch.version ?? version
        )
    }
}

extension EnforcedTLSSettings {
    // Custom coding so that stored JSON (audit trail) carries the version as a number too.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        requireTLS = try c.decode(Bool.self, forKey: .requireTLS)
        requireValidCert = try c.decode(Bool.self, forKey: .requireValidCert)
        if let text = try? c.decode(String.self, forKey: .version), let v = TLSVersion(text: text) {
            version = v
        } else if let v = TLSVersion(number: try c.decode(Double.self, forKey: .version)) {
            version = v
        } else {
            throw DecodingError.dataCorruptedError(forKey: .version, in: c, debugDescription: "unknown TLS version")
        }
    }
}

/// A partial update: `nil` means "leave as it is" (SendGrid's PATCH semantics).
public struct EnforcedTLSPatch: Sendable, Equatable {
    public var requireTLS: Bool?
    public var requireValidCert: Bool?
    public var version: TLSVersion?

    public init(requireTLS: Bool? = nil, requireValidCert: Bool? = nil, version: TLSVersion? = nil) {
        self.requireTLS = requireTLS
        self.requireValidCert = requireValidCert
        self.version = version
    }

    public var isEmpty: Bool { requireTLS == nil && requireValidCert == nil && version == nil }
}
