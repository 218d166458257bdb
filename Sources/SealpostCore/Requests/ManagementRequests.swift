import Foundation

// The bodies of the management endpoints, in one style with `EnforcedTLSPatchBody`: each is
// decoded straight into a typed request whose fields are `PatchField`s (absent, a value, or
// the wrong type), then `validated()` into the values a route uses, every bad field named in
// SendGrid's error items. Routes hold no validation of their own. The mail-send body is the
// same (`MailSendBody`, checked by `MailRequestValidator`).

extension KeyedDecodingContainer {
    /// One field: absent, a `T`, or present with another type (named for the error message).
    func field<T: Decodable & Sendable>(_ type: T.Type, _ key: Key) -> PatchField<T> {
        guard contains(key) else { return .absent }
        if let value = try? decode(T.self, forKey: key) { return .value(value) }
        return .invalid(typeName: (try? decode(JSONValue.self, forKey: key))?.typeName ?? "invalid")
    }
}

/// `POST /v3/api_keys`: `name` (1–100 characters) and optional `scopes`.
public struct CreateAPIKeyBody: Decodable, Sendable {
    public static let maxNameLength = 100
    var name: PatchField<String> = .absent
    var scopes: PatchField<[String]> = .absent

    public init() {}

    enum CodingKeys: String, CodingKey { case name, scopes }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        name = c.field(String.self, .name)
        scopes = c.field([String].self, .scopes)
    }

    /// The key's name, and the scopes asked for (`nil`: copy the caller's grant).
    public func validated() throws(ValidationFailure) -> (name: String, scopes: Set<String>?) {
        var errors: [FieldError] = []
        var validName = ""
        switch name {
        case .value(let s) where !s.isEmpty && s.count <= Self.maxNameLength: validName = s
        case .absent: errors.append(FieldError(field: "name", message: "missing required argument"))
        default: errors.append(FieldError(field: "name", message: "name must be a string of 1 to \(Self.maxNameLength) characters"))
        }
        var requested: Set<String>?
        switch scopes {
        case .absent, .invalid(typeName: "null"): requested = nil
        case .value(let list):
            let set = Set(list)
            let unknown = set.filter { !Scope.isKnown($0) }.sorted()
            if !unknown.isEmpty {
                errors.append(FieldError(field: "scopes", message: "unknown scopes: \(unknown.joined(separator: ", "))"))
            }
            requested = set
        case .invalid: errors.append(FieldError(field: "scopes", message: "scopes must be an array of strings"))
        }
        if !errors.isEmpty { throw ValidationFailure(errors) }
        return (validName, requested)
    }
}

/// `POST /v3/subusers`: `username`, `email`; `password` and `ips` accepted (and not stored)
/// when they are what SendGrid's schema says.
public struct CreateSubuserBody: Decodable, Sendable {
    var username: PatchField<String> = .absent
    var email: PatchField<String> = .absent
    var password: PatchField<String> = .absent
    var ips: PatchField<[String]> = .absent

    public init() {}

    enum CodingKeys: String, CodingKey { case username, email, password, ips }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        username = c.field(String.self, .username)
        email = c.field(String.self, .email)
        password = c.field(String.self, .password)
        ips = c.field([String].self, .ips)
    }

    public func validated() throws(ValidationFailure) -> (username: String, email: String) {
        var errors: [FieldError] = []
        var validName = ""
        var validEmail = ""
        switch username {
        case .value(let s):
            if let problem = UserName.validationError(s) {
                errors.append(FieldError(field: "username", message: "username \(problem)"))
            } else {
                validName = s
            }
        case .absent: errors.append(FieldError(field: "username", message: "missing required argument"))
        case .invalid: errors.append(FieldError(field: "username", message: "username must be a string"))
        }
        switch email {
        case .value(let s) where Self.looksLikeEmail(s): validEmail = s
        case .absent: errors.append(FieldError(field: "email", message: "missing required argument"))
        default: errors.append(FieldError(field: "email", message: "email must be a valid email address"))
        }
        if case .invalid = password { errors.append(FieldError(field: "password", message: "password must be a string")) }
        if case .invalid = ips { errors.append(FieldError(field: "ips", message: "ips must be an array of strings")) }
        if !errors.isEmpty { throw ValidationFailure(errors) }
        return (validName, validEmail)
    }

    public static func looksLikeEmail(_ s: String) -> Bool {
        let parts = s.split(separator: "@", omittingEmptySubsequences: false)
        return s.count <= 254 && parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !s.contains(where: \.isWhitespace)
    }
}

/// `PATCH /v3/user/webhooks/event/settings`: `enabled`, `url` and the per-event switches, each
/// optional; unknown fields are ignored.
public struct WebhookSettingsPatchBody: Decodable, Sendable {
    var enabled: PatchField<Bool> = .absent
    var url: PatchField<String> = .absent
    var events: [String: PatchField<Bool>] = [:]

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        enabled = c.field(Bool.self, AnyCodingKey("enabled"))
        url = c.field(String.self, AnyCodingKey("url"))
        for name in WebhookSettings.eventNames {
            let value = c.field(Bool.self, AnyCodingKey(name))
            if case .absent = value { continue }
            events[name] = value
        }
    }

    /// `current` with this patch applied; every problem named, sorted by field.
    public func applied(to current: WebhookSettings) throws(ValidationFailure) -> WebhookSettings {
        var settings = current
        var errors: [FieldError] = []
        switch enabled {
        case .absent: break
        case .value(let b): settings.enabled = b
        case .invalid: errors.append(FieldError(field: "enabled", message: "enabled must be a boolean"))
        }
        switch url {
        case .absent: break
        case .value(let u) where u.isEmpty || Self.isHTTPURL(u): settings.url = u
        default: errors.append(FieldError(field: "url", message: "url must be an http or https URL"))
        }
        for (name, value) in events {
            switch value {
            case .absent: break
            case .value(let b): settings.events[name] = b
            case .invalid: errors.append(FieldError(field: name, message: "\(name) must be a boolean"))
            }
        }
        if settings.enabled && settings.url.isEmpty { errors.append(FieldError(field: "url", message: "an enabled webhook needs a url")) }
        if !errors.isEmpty { throw ValidationFailure(errors.sorted { ($0.field ?? "") < ($1.field ?? "") }) }
        return settings
    }

    public static func isHTTPURL(_ s: String) -> Bool {
        guard let url = URL(string: s), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host != nil else {
            return false
        }
        return true
    }
}

/// `PATCH /v3/user/webhooks/event/settings/signed`: `{"enabled": true|false}`.
public struct WebhookSigningPatchBody: Decodable, Sendable {
    var enabled: PatchField<Bool> = .absent

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        enabled = c.field(Bool.self, AnyCodingKey("enabled"))
    }

    /// Whether signing is to be on; `enabled` is required.
    public func validated() throws(ValidationFailure) -> Bool {
        guard case .value(let on) = enabled else {
            throw ValidationFailure([FieldError(field: "enabled", message: "enabled is required and must be a boolean")])
        }
        return on
    }
}
