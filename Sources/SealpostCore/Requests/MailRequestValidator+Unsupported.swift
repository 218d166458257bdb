extension MailRequestValidator {
    static func unsupportedMessage(_ field: String) -> String {
        "\(field) is not supported by this server: Sealpost would send this mail without its effect, so it refuses it. Leave the field out (or send it with enable: false)."
    }

    /// SendGrid settings that change the mail and that Sealpost does not implement yet:
    /// refused by name when they would have an effect, accepted when they would not (absent,
    /// null, empty, or `enable: false`). Keys outside SendGrid's schema stay ignored.
    static func unsupported(_ body: MailSendBody, into errors: inout [FieldError]) {
        func fail(_ field: String, _ message: String) { errors.append(.init(field: field, message: message)) }
        for (key, value) in body.unsupported where value.hasEffect { fail(key, unsupportedMessage(key)) }

        if case .value(let settings) = body.mailSettings {
            for (key, value) in settings.switches {
                let field = "mail_settings.\(key)"
                switch value {
                case .absent: break
                case .invalid: fail(field, "\(key) must be an object")
                case .value(let s):
                    switch s.enable {
                    case .invalid: fail("\(field).enable", "enable must be a boolean")
                    case .value(true) where MailSettingsBody.unsupportedKeys.contains(key): fail(field, unsupportedMessage(field))
                    default: break
                    }
                }
            }
        }

        switch body.trackingSettings {
        case .absent: break
        case .invalid: fail("tracking_settings", "tracking_settings must be an object")
        case .value(let settings):
            for key in settings.keys.sorted() {
                guard ["click_tracking", "open_tracking", "subscription_tracking", "ganalytics"].contains(key), let value = settings[key]
                else { continue }
                let field = "tracking_settings.\(key)"
                switch value {
                case .null: continue
                case .object(let o):
                    switch o["enable"] {
                    case nil, .null?, .bool(false)?: continue
                    case .bool(true)?: fail(field, unsupportedMessage(field))
                    default: fail("\(field).enable", "enable must be a boolean")
                    }
                default: fail(field, "\(key) must be an object")
                }
            }
        }
    }
}

extension JSONValue {
    /// Whether a setting sent with this value would change the mail: null and empty values do not.
    var hasEffect: Bool {
        switch self {
        case .null: false
        case .string(let s): !s.isEmpty
        case .array(let a): !a.isEmpty
        case .object(let o): !o.isEmpty
        case .bool, .number: true
        }
    }
}
