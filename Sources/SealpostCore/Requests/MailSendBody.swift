/// The body of `POST /v3/mail/send`, decoded straight into typed fields in the style of every
/// other body (`PatchField`: absent, a value, or the wrong type), so that decoding never fails
/// on a field and `MailRequestValidator` can name each bad one. Keys outside SendGrid's schema
/// are ignored, as SendGrid does.
public struct MailSendBody: Decodable, Sendable {
    var personalizations: PatchField<[Element<PersonalizationBody>]> = .absent
    var from: PatchField<AddressBody> = .absent
    var replyTo: PatchField<AddressBody> = .absent
    var replyToList: PatchField<[Element<AddressBody>]> = .absent
    var subject: PatchField<String> = .absent
    var content: PatchField<[Element<ContentBody>]> = .absent
    var attachments: PatchField<[Element<AttachmentBody>]> = .absent
    var headers: PatchField<[String: JSONValue]> = .absent
    var categories: PatchField<[String]> = .absent
    var customArgs: PatchField<[String: JSONValue]> = .absent
    var sendAt: PatchField<Double> = .absent
    var mailSettings: PatchField<MailSettingsBody> = .absent
    var trackingSettings: PatchField<[String: JSONValue]> = .absent
    /// SendGrid fields Sealpost does not implement: kept raw so that one with an effect can be
    /// refused by name instead of ignored (`MailRequestValidator.unsupported`).
    var unsupported: [(field: String, value: JSONValue)] = []

    public init() {}

    enum CodingKeys: String, CodingKey {
        case personalizations, from, subject, content, headers, categories, attachments, sections, asm
        case replyTo = "reply_to", customArgs = "custom_args", sendAt = "send_at", mailSettings = "mail_settings"
        case replyToList = "reply_to_list", trackingSettings = "tracking_settings", templateID = "template_id"
        case batchID = "batch_id", ipPoolName = "ip_pool_name"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        personalizations = c.field([Element<PersonalizationBody>].self, .personalizations)
        from = c.field(AddressBody.self, .from)
        replyTo = c.field(AddressBody.self, .replyTo)
        replyToList = c.field([Element<AddressBody>].self, .replyToList)
        subject = c.field(String.self, .subject)
        content = c.field([Element<ContentBody>].self, .content)
        attachments = c.field([Element<AttachmentBody>].self, .attachments)
        headers = c.field([String: JSONValue].self, .headers)
        categories = c.field([String].self, .categories)
        customArgs = c.field([String: JSONValue].self, .customArgs)
        sendAt = c.field(Double.self, .sendAt)
        mailSettings = c.field(MailSettingsBody.self, .mailSettings)
        trackingSettings = c.field([String: JSONValue].self, .trackingSettings)
        for key in [CodingKeys.templateID, .sections, .asm, .batchID, .ipPoolName] {
            if case .value(let v) = c.field(JSONValue.self, key) { unsupported.append((key.stringValue, v)) }
        }
    }
}

/// `mail_settings`: `sandbox_mode` and the `bypass_*` switches of the suppression lists, which
/// Sealpost implements; and the settings it does not implement, refused when enabled.
struct MailSettingsBody: Decodable, Sendable {
    static let bypassKeys = [
        "bypass_list_management", "bypass_spam_management", "bypass_bounce_management", "bypass_unsubscribe_management",
    ]
    static let unsupportedKeys = ["footer", "bcc", "spam_check"]
    /// Sealpost's own: `require_tls` marks the message REQUIRETLS (RFC 8689).
    static let extensionKeys = ["require_tls"]
    var sandboxMode: PatchField<SwitchBody> = .absent
    /// Every other setting by key, for the validator to check.
    var switches: [(key: String, value: PatchField<SwitchBody>)] = []

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        sandboxMode = c.field(SwitchBody.self, AnyCodingKey("sandbox_mode"))
        for key in Self.bypassKeys + Self.extensionKeys + Self.unsupportedKeys {
            let value = c.field(SwitchBody.self, AnyCodingKey(key))
            if case .absent = value { continue }
            switches.append((key, value))
        }
    }
}

/// `{"enable": …}`, as every SendGrid mail and tracking setting is shaped.
struct SwitchBody: Decodable, Sendable {
    var enable: PatchField<Bool> = .absent

    enum CodingKeys: String, CodingKey { case enable }

    init(from decoder: any Decoder) throws {
        enable = try decoder.container(keyedBy: CodingKeys.self).field(Bool.self, .enable)
    }
}

/// One element of an array field: the element, or something else in its place (named).
enum Element<T: Decodable & Sendable>: Decodable, Sendable {
    case value(T)
    case invalid(typeName: String)

    init(from decoder: any Decoder) throws {
        if let value = try? T(from: decoder) {
            self = .value(value)
        } else {
            self = .invalid(typeName: (try? JSONValue(from: decoder))?.typeName ?? "invalid")
        }
    }
}

struct AddressBody: Decodable, Sendable {
    var email: PatchField<String> = .absent
    var name: PatchField<String> = .absent

    enum CodingKeys: String, CodingKey { case email, name }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        email = c.field(String.self, .email)
        name = c.field(String.self, .name)
    }
}

struct PersonalizationBody: Decodable, Sendable {
    var from: PatchField<AddressBody> = .absent
    var to: PatchField<[Element<AddressBody>]> = .absent
    var cc: PatchField<[Element<AddressBody>]> = .absent
    var bcc: PatchField<[Element<AddressBody>]> = .absent
    var subject: PatchField<String> = .absent
    var headers: PatchField<[String: JSONValue]> = .absent
    var customArgs: PatchField<[String: JSONValue]> = .absent
    var sendAt: PatchField<Double> = .absent
    var unsupported: [(field: String, value: JSONValue)] = []

    enum CodingKeys: String, CodingKey {
        case from, to, cc, bcc, subject, headers, substitutions
        case customArgs = "custom_args", sendAt = "send_at", dynamicTemplateData = "dynamic_template_data"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        from = c.field(AddressBody.self, .from)
        for key in [CodingKeys.substitutions, .dynamicTemplateData] {
            if case .value(let v) = c.field(JSONValue.self, key) { unsupported.append((key.stringValue, v)) }
        }
        to = c.field([Element<AddressBody>].self, .to)
        cc = c.field([Element<AddressBody>].self, .cc)
        bcc = c.field([Element<AddressBody>].self, .bcc)
        subject = c.field(String.self, .subject)
        headers = c.field([String: JSONValue].self, .headers)
        customArgs = c.field([String: JSONValue].self, .customArgs)
        sendAt = c.field(Double.self, .sendAt)
    }
}

struct ContentBody: Decodable, Sendable {
    var type: PatchField<String> = .absent
    var value: PatchField<String> = .absent

    enum CodingKeys: String, CodingKey { case type, value }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        type = c.field(String.self, .type)
        value = c.field(String.self, .value)
    }
}

/// One element of `attachments[]`; every field is checked by the validator.
struct AttachmentBody: Decodable, Sendable {
    var content: PatchField<String> = .absent
    var type: PatchField<String> = .absent
    var filename: PatchField<String> = .absent
    var disposition: PatchField<String> = .absent
    var contentID: PatchField<String> = .absent

    enum CodingKeys: String, CodingKey {
        case content, type, filename, disposition
        case contentID = "content_id"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        content = c.field(String.self, .content)
        type = c.field(String.self, .type)
        filename = c.field(String.self, .filename)
        disposition = c.field(String.self, .disposition)
        contentID = c.field(String.self, .contentID)
    }
}
