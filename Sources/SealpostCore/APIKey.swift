import Crypto
import Foundation

/// A SendGrid-shaped API key: `SG.<22-char key id>.<43-char secret>` (69 characters).
///
/// The key id is public (it is the `api_key_id` of the API and what logs and the audit trail
/// name); the secret is shown once at creation and only its SHA-256 is stored. A plain hash is
/// enough because the secret carries 256 random bits: there is nothing to brute-force.
public struct APIKeyToken: Sendable, Equatable {
    public static let idLength = 22
    public static let secretLength = 43

    public let id: String
    public let secret: String

    /// The full key, as handed to the user exactly once.
    public var plaintext: String { "SG.\(id).\(secret)" }

    /// The id never begins with `-`: command lines (`sealpost keys revoke <id>`) would take it
    /// for an option (found when a test drew such an id). The id is public, so drawing again
    /// costs the secret nothing.
    public static func generate() -> APIKeyToken {
        var id = randomBase64URL(bytes: 16)
        while id.hasPrefix("-") { id = randomBase64URL(bytes: 16) }
        return APIKeyToken(id: id, secret: randomBase64URL(bytes: 32))
    }

    /// Parses a presented key; `nil` for anything that is not exactly SendGrid's shape.
    ///
    /// Works on the UTF-8 bytes: the shape is ASCII, and splitting a generic `StringProtocol`
    /// by `Character` (grapheme breaking) was 7% of an authenticated request's CPU (perf, issue 15).
    public init?(presented: some StringProtocol) {
        let bytes = Array(presented.utf8)
        let dot = UInt8(ascii: ".")
        let idRange = 3..<(3 + Self.idLength)
        let secretRange = (idRange.upperBound + 1)..<(idRange.upperBound + 1 + Self.secretLength)
        guard bytes.count == secretRange.upperBound,
            bytes[0] == UInt8(ascii: "S"), bytes[1] == UInt8(ascii: "G"), bytes[2] == dot,
            bytes[idRange.upperBound] == dot,
            bytes[idRange].allSatisfy(Self.isBase64URL), bytes[secretRange].allSatisfy(Self.isBase64URL)
        else { return nil }
        self.id = String(decoding: bytes[idRange], as: UTF8.self)
        self.secret = String(decoding: bytes[secretRange], as: UTF8.self)
    }

    private init(id: String, secret: String) {
        self.id = id
        self.secret = secret
    }

    public var secretHash: [UInt8] { Self.hash(secret: secret) }

    public static func hash(secret: String) -> [UInt8] {
        Array(SHA256.hash(data: Data(secret.utf8)))
    }

    /// Compares the presented secret with a stored hash in time independent of where they differ.
    public func matches(storedHash: [UInt8]) -> Bool {
        constantTimeEqual(secretHash, storedHash)
    }

    private static func isBase64URL(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x5F
    }

    private static func randomBase64URL(bytes count: Int) -> String {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &rng) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// Constant-time equality for equal-length digests; unequal lengths are simply unequal.
public func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var diff: UInt8 = 0
    for i in a.indices { diff |= a[i] ^ b[i] }
    return diff == 0
}

/// A key as stored: never the secret itself.
public struct StoredAPIKey: Sendable, Equatable {
    public var id: String
    public var userID: Int64
    public var name: String
    public var grant: ScopeGrant
    public var secretHash: [UInt8]
    public var createdAt: Date
    public var revokedAt: Date?

    public init(id: String, userID: Int64, name: String, grant: ScopeGrant, secretHash: [UInt8], createdAt: Date, revokedAt: Date? = nil) {
        self.id = id
        self.userID = userID
        self.name = name
        self.grant = grant
        self.secretHash = secretHash
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}
