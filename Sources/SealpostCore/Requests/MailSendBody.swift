/// The body of `POST /v3/mail/send`, decoded straight into typed fields in the style of every
/// other body (`PatchField`: absent, a value, or the wrong type), so that decoding never fails
/// on a field and `MailRequestValidator` can name each bad one. Keys outside SendGrid's schema
/// are ignored, as SendGrid does.
public struct MailSendBody: Decodable, Sendable {
    var personalizations: PatchField<[Element<PersonalizationBody>]> = .absent
    var from: PatchField<AddressBody> = .absent
    var replyTo: PatchField<AddressBody> = .absent
    var subject: PatchField<String> = .absent
    var content: PatchField<[Element<ContentBody>]> = .absent
    var headers: PatchField<[String: JSONValue]> = .absent
    var categories: PatchField<[String]> = .absent
    var customArgs: PatchField<[String: JSONValue]> = .absent
    var sendAt: PatchField<Double> = .absent
    var mailSettings: PatchField<MailSettingsBody> = .absent

    public init() {}

    enum CodingKeys: String, CodingKey {
        case personalizations, from, subject, content, headers, categories
        case replyTo = "reply_to", customArgs = "custom_args", sendAt = "send_at", mailSettings = "mail_settings"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        personalizations = c.field([Element<PersonalizationBody>].self, .personalizations)
        from = c.field(AddressBody.self, .from)
        replyTo = c.field(AddressBody.self, .replyTo)
        subject = c.field(String.self, .subject)
        content = c.field([Element<ContentBody>].self, .content)
        headers = c.field([String: JSONValue].self, .headers)
        categories = c.field([String].self, .categories)
        customArgs = c.field([String: JSONValue].self, .customArgs)
        sendAt = c.field(Double.self, .sendAt)
        mailSettings = c.field(MailSettingsBody.self, .mailSettings)
    }
}

/// `mail_settings`: the switches Sealpost reads (`sandbox_mode` so far).
struct MailSettingsBody: Decodable, Sendable {
    var sandboxMode: PatchField<SwitchBody> = .absent

    enum CodingKeys: String, CodingKey { case sandboxMode = "sandbox_mode" }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        sandboxMode = c.field(SwitchBody.self, .sandboxMode)
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
    var to: PatchField<[Element<AddressBody>]> = .absent
    var cc: PatchField<[Element<AddressBody>]> = .absent
    var bcc: PatchField<[Element<AddressBody>]> = .absent
    var subject: PatchField<String> = .absent
    var headers: PatchField<[String: JSONValue]> = .absent
    var customArgs: PatchField<[String: JSONValue]> = .absent
    var sendAt: PatchField<Double> = .absent

    enum CodingKeys: String, CodingKey {
        case to, cc, bcc, subject, headers
        case customArgs = "custom_args", sendAt = "send_at"
    }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
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
