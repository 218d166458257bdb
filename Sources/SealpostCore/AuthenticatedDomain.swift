import Foundation

/// A sending domain authenticated for DKIM (SendGrid's `/v3/whitelabel/domains`, manual
/// security): Sealpost holds the key pair; the owner publishes the public key at
/// `<selector>._domainkey.<domain>`; once `validate` found it there, mail whose `From` is
/// this domain (or a subdomain of it) is signed with `d=<domain>`.
///
/// It belongs to one tenant (`ownerID`: a parent account, whose subusers use it too, or a
/// customer account). The private key is never returned or logged: `description` leaves it out.
public struct AuthenticatedDomain: Sendable, Equatable, CustomStringConvertible {
    public var id: Int64
    public var ownerID: Int64
    public var domain: String
    public var subdomain: String
    public var selector: String
    /// PKCS#1 DER of the RSA private key.
    public var privateKey: [UInt8]
    /// Base64 DER SubjectPublicKeyInfo: the `p=` of the DNS record.
    public var publicKey: String
    public var isDefault: Bool
    /// SendGrid's flag, kept and shown: the owner manages SPF (Sealpost never does).
    public var customSPF: Bool
    public var valid: Bool

    public init(
        id: Int64 = 0, ownerID: Int64, domain: String, subdomain: String, selector: String, privateKey: [UInt8], publicKey: String,
        isDefault: Bool, customSPF: Bool = false, valid: Bool
    ) {
        self.customSPF = customSPF
        self.id = id
        self.ownerID = ownerID
        self.domain = domain
        self.subdomain = subdomain
        self.selector = selector
        self.privateKey = privateKey
        self.publicKey = publicKey
        self.isDefault = isDefault
        self.valid = valid
    }

    public var description: String { "AuthenticatedDomain(id: \(id), domain: \(domain), selector: \(selector), valid: \(valid))" }

    /// Where the DKIM record goes.
    public var dkimHost: String { "\(selector)._domainkey.\(domain)" }

    /// The tenant that owns the domains a user may use: a subuser's parent, else the user.
    public static func owner(of user: User) -> Int64 {
        user.kind == .subuser ? (user.parentID ?? user.id) : user.id
    }

    /// Of `domains`, the validated one that signs mail from `fromDomain`: the domain itself or
    /// the closest parent domain of it.
    public static func signer(for fromDomain: String, among domains: [AuthenticatedDomain]) -> AuthenticatedDomain? {
        let from = fromDomain.lowercased()
        return domains.filter { $0.valid && (from == $0.domain || from.hasSuffix("." + $0.domain)) }
            .max { $0.domain.count < $1.domain.count }
    }

    /// Whether `record` (a TXT string found at `dkimHost`) publishes this key: `p=` equal (white
    /// space ignored), `k=rsa` or absent, `v=DKIM1` or absent (RFC 6376 §3.6.1).
    public func isPublished(in record: String) -> Bool {
        var tags: [String: String] = [:]
        for part in record.split(separator: ";") {
            let kv = part.split(separator: "=", maxSplits: 1)
            guard kv.count == 2 else { continue }
            tags[kv[0].trimmingCharacters(in: .whitespaces).lowercased()] = kv[1].filter { !$0.isWhitespace }
        }
        return tags["p"] == publicKey && (tags["k"] ?? "rsa").lowercased() == "rsa" && (tags["v"] ?? "DKIM1") == "DKIM1"
    }
}
