import Foundation

/// `POST /v3/whitelabel/domains`. Sealpost does manual security only (it holds the DKIM key;
/// the owner publishes the TXT record), so what needs SendGrid's hosted DNS or IP pools is
/// refused by name rather than silently ignored: `automatic_security: true`, non-empty `ips`,
/// `username` (use `on-behalf-of`), a `region` other than `global`.
public struct AuthenticateDomainBody: Decodable, Sendable {
    var domain: PatchField<String> = .absent
    var subdomain: PatchField<String> = .absent
    var selector: PatchField<String> = .absent
    var isDefault: PatchField<Bool> = .absent
    var automaticSecurity: PatchField<Bool> = .absent
    var customSPF: PatchField<Bool> = .absent
    var ips: PatchField<[String]> = .absent
    var username: PatchField<String> = .absent
    var region: PatchField<String> = .absent

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        domain = c.field(String.self, AnyCodingKey("domain"))
        subdomain = c.field(String.self, AnyCodingKey("subdomain"))
        selector = c.field(String.self, AnyCodingKey("custom_dkim_selector"))
        isDefault = c.field(Bool.self, AnyCodingKey("default"))
        automaticSecurity = c.field(Bool.self, AnyCodingKey("automatic_security"))
        customSPF = c.field(Bool.self, AnyCodingKey("custom_spf"))
        ips = c.field([String].self, AnyCodingKey("ips"))
        username = c.field(String.self, AnyCodingKey("username"))
        region = c.field(String.self, AnyCodingKey("region"))
    }

    /// The body from a JSON-like dictionary (the CLI builds one from its options).
    public static func decoded(from object: [String: Any]) throws -> AuthenticateDomainBody {
        try JSONDecoder().decode(AuthenticateDomainBody.self, from: JSONSerialization.data(withJSONObject: object))
    }

    public struct Validated: Sendable, Equatable {
        public var domain: String
        public var subdomain: String
        public var selector: String
        public var isDefault: Bool
        public var customSPF: Bool
    }

    public static let defaultSelector = "s1"

    public func validated() throws(ValidationFailure) -> Validated {
        var errors: [FieldError] = []
        func fail(_ field: String, _ message: String) { errors.append(FieldError(field: field, message: message)) }
        func flag(_ value: PatchField<Bool>, _ name: String) -> Bool {
            switch value {
            case .absent: return false
            case .value(let b): return b
            case .invalid:
                fail(name, "\(name) must be a boolean")
                return false
            }
        }
        var name = ""
        if case .value(let d) = domain, let normalized = DomainTLSEntry.normalize(d, asciiOnly: true), !normalized.hasPrefix(".") {
            name = normalized
        } else {
            fail("domain", "domain is required and must be a domain name")
        }
        var sub = ""
        switch subdomain {
        case .absent: break
        case .value(let s)
        where s.isEmpty || (s.split(separator: ".", omittingEmptySubsequences: false).allSatisfy(DomainTLSEntry.isHostLabel)):
            sub = s.lowercased()
        default: fail("subdomain", "subdomain must be host name labels")
        }
        var sel = Self.defaultSelector
        switch selector {
        case .absent: break
        case .value(let s) where !s.isEmpty && DomainTLSEntry.isHostLabel(Substring(s)):
            sel = s.lowercased()
        default: fail("custom_dkim_selector", "custom_dkim_selector must be one DNS label (letters, digits, hyphens)")
        }
        let isDefault = flag(isDefault, "default")
        let customSPF = flag(customSPF, "custom_spf")
        if flag(automaticSecurity, "automatic_security") {
            fail(
                "automatic_security",
                "automatic_security is not supported by this server: Sealpost signs with its own key and you publish its TXT record (manual security)"
            )
        }
        switch ips {
        case .absent: break
        case .value(let list) where list.isEmpty: break
        default: fail("ips", "ips is not supported by this server: Sealpost has no IP pools")
        }
        switch username {
        case .absent: break
        case .value(let u) where u.isEmpty: break
        default: fail("username", "username is not supported by this server: authenticate a subuser's domain with on-behalf-of")
        }
        switch region {
        case .absent: break
        case .value(let r) where r == "global": break
        default: fail("region", "region must be global")
        }
        if !errors.isEmpty { throw ValidationFailure(errors) }
        return Validated(domain: name, subdomain: sub, selector: sel, isDefault: isDefault, customSPF: customSPF)
    }
}

/// `PATCH /v3/whitelabel/domains/{id}`: `default` (and `custom_spf`, kept for SendGrid's shape).
public struct UpdateDomainBody: Decodable, Sendable {
    var isDefault: PatchField<Bool> = .absent
    var customSPF: PatchField<Bool> = .absent

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        isDefault = c.field(Bool.self, AnyCodingKey("default"))
        customSPF = c.field(Bool.self, AnyCodingKey("custom_spf"))
    }

    public func validated() throws(ValidationFailure) -> (isDefault: Bool?, customSPF: Bool?) {
        var errors: [FieldError] = []
        func flag(_ value: PatchField<Bool>, _ name: String) -> Bool? {
            switch value {
            case .absent: return nil
            case .value(let b): return b
            case .invalid:
                errors.append(FieldError(field: name, message: "\(name) must be a boolean"))
                return nil
            }
        }
        let d = flag(isDefault, "default")
        let s = flag(customSPF, "custom_spf")
        if !errors.isEmpty { throw ValidationFailure(errors) }
        return (d, s)
    }
}
