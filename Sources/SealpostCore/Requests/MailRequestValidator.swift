import Foundation

/// SendGrid's validation of a v3 mail-send body (decoded into `MailSendBody`), with its error
/// texts where they are known. All problems are collected and answered at once, each naming
/// its field.
public enum MailRequestValidator {
    static let fromMessage =
        "The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.  e.g. {\"email\" : \"example@example.com\"}  or {\"email\" : \"example@example.com\", \"name\" : \"Example Recipient\"}."
    static let personalizationsMessage = "The personalizations field is required and must have at least one personalization."
    static let contentMessage =
        "Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block. We typically suggest both text/plain and text/html blocks are included, but only one block is required."
    static let contentValueMessage = "The content value must be a string at least one character in length."
    static let subjectMessage =
        "The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined."
    static let addressMessage = "Does not contain a valid address."
    static let idnMessage = "The domain of this address is not a valid internationalized domain name (IDNA2008)."
    static let duplicateMessage = "Each email address in the personalization block should be unique between to, cc, and bcc."
    static let sendAtMessage = "The send_at parameter is expecting a UNIX timestamp as an integer."
    static let scheduleMessage = "Scheduling more than 72 hours in advance is forbidden."
    /// SendGrid's limits: `send_at` at most 72 hours ahead; the custom args of one message
    /// (request and personalization merged) at most 10,000 bytes of keys and values.
    static let maxSchedule: TimeInterval = 72 * 3600
    static let maxCustomArgsBytes = 10_000
    static let reservedHeaderMessage = "Header can not be one of the reserved keys."

    /// `body` decoded into the typed request (every field captured as a value or as the wrong
    /// type, see `MailSendBody`), then checked field by field; all problems at once.
    public static func validate(_ body: MailSendBody, maxRecipients: Int, now: Date = Date()) throws(ValidationFailure) -> MailRequest {
        var errors: [FieldError] = []
        func fail(_ field: String?, _ message: String) { errors.append(.init(field: field, message: message)) }

        func address(_ a: AddressBody, field: String, message: String = addressMessage) -> MailAddress? {
            guard case .value(let email) = a.email else {
                fail("\(field).email", message)
                return nil
            }
            guard isValidAddress(email) else {
                fail("\(field).email", addressMessage)
                return nil
            }
            guard let email = envelopeForm(email) else {
                fail("\(field).email", idnMessage)
                return nil
            }
            var name: String?
            switch a.name {
            case .value(let n): name = n
            case .absent: name = nil
            case .invalid:
                fail("\(field).name", "name must be a string")
                return nil
            }
            return MailAddress(email: email, name: name)
        }
        func address(_ value: PatchField<AddressBody>, field: String, message: String = addressMessage) -> MailAddress? {
            guard case .value(let a) = value else {
                fail("\(field).email", message)
                return nil
            }
            return address(a, field: field, message: message)
        }
        func addresses(_ value: PatchField<[Element<AddressBody>]>, field: String, required: Bool) -> [MailAddress] {
            let missing =
                "The \(field) array is required for all personalizations, and must have at least one email object with a valid email address."
            switch value {
            case .absent:
                if required { fail(field, missing) }
                return []
            case .invalid:
                fail(field, missing)
                return []
            case .value(let items):
                if required && items.isEmpty {
                    fail(field, missing)
                    return []
                }
                return items.enumerated().compactMap { i, item in
                    guard case .value(let a) = item else {
                        fail("\(field).\(i).email", addressMessage)
                        return nil
                    }
                    return address(a, field: "\(field).\(i)")
                }
            }
        }
        func strings(_ value: PatchField<[String: JSONValue]>, field: String, headers: Bool = false) -> [String: String] {
            switch value {
            case .absent: return [:]
            case .invalid:
                fail(field, "\(field) must be an object of strings")
                return [:]
            case .value(let o):
                var out: [String: String] = [:]
                for (k, v) in o {
                    guard case .string(let s) = v else {
                        fail("\(field).\(k)", "\(field) values must be strings")
                        continue
                    }
                    if headers && !isFieldName(k) {
                        fail("\(field).\(k)", "header names must be printable ASCII without spaces or colons")
                        continue
                    }
                    if headers && s.hasLineBreak {
                        fail("\(field).\(k)", "header names and values may not contain line breaks")
                        continue
                    }
                    if headers && reservedHeaders.contains(k.lowercased()) {
                        fail("\(field).\(k)", reservedHeaderMessage)
                        continue
                    }
                    if headers && s.allSatisfy(\.isASCII)
                        && HeaderField.longestUnfoldableLine(name: k, value: s) > HeaderField.hardLimit
                    {
                        fail(
                            "\(field).\(k)",
                            "This header has a word too long to fold into lines of at most 998 characters (RFC 5322 §2.1.1).")
                        continue
                    }
                    out[k] = s
                }
                return out
            }
        }
        /// Absent is fine (the other level may have one); present means a non-empty string.
        func optionalSubject(_ value: PatchField<String>, field: String) -> String? {
            switch value {
            case .absent: return nil
            case .value(let s) where !s.isEmpty: return s
            case .value: fail(field, "The subject must be at least one character long.")
            case .invalid: fail(field, "The subject must be a string.")
            }
            return nil
        }
        func timestamp(_ value: PatchField<Double>, field: String) -> Int? {
            switch value {
            case .absent: return nil
            case .value(let n) where n >= 0 && n < 4_102_444_800 && n == n.rounded():
                guard Int(n) <= latestSendAt(now: now) else {
                    fail(field, scheduleMessage)
                    return nil
                }
                return Int(n)
            default:
                fail(field, sendAtMessage)
                return nil
            }
        }

        // from
        let from = address(body.from, field: "from", message: fromMessage)
        if from == nil, !errors.contains(where: { $0.field == "from.email" }) { fail("from.email", fromMessage) }
        var replyTo: [MailAddress] = []
        if case .absent = body.replyTo {} else if let a = address(body.replyTo, field: "reply_to") { replyTo = [a] }
        switch body.replyToList {
        case .absent: break
        case .value(let items) where !items.isEmpty && items.count <= 1000:
            if case .absent = body.replyTo {
                replyTo = addresses(body.replyToList, field: "reply_to_list", required: false)
            } else {
                fail("reply_to_list", "reply_to_list cannot be used together with reply_to.")
            }
        default: fail("reply_to_list", "reply_to_list must be an array of 1 to 1000 email objects.")
        }

        // personalizations
        var personalizations: [MailPersonalization] = []
        var recipientCount = 0
        if case .value(let items) = body.personalizations, !items.isEmpty {
            if items.count > 1000 {
                fail("personalizations", "The personalizations field must not contain more than 1000 personalizations.")
            }
            for (i, item) in items.prefix(1000).enumerated() {
                let field = "personalizations.\(i)"
                guard case .value(let p) = item else {
                    fail(field, "Each personalization must be an object.")
                    continue
                }
                let to = addresses(p.to, field: "\(field).to", required: true)
                let cc = addresses(p.cc, field: "\(field).cc", required: false)
                let bcc = addresses(p.bcc, field: "\(field).bcc", required: false)
                var seen = Set<String>()
                for (list, name) in [(to, "to"), (cc, "cc"), (bcc, "bcc")] {
                    for a in list where !seen.insert(a.email.lowercased()).inserted {
                        fail(
                            field,
                            "\(duplicateMessage) We found the first duplicate instance of [\(a.email)] in the \(field).\(name) field.")
                    }
                }
                let sender: MailAddress? = if case .absent = p.from { nil } else { address(p.from, field: "\(field).from") }
                for (key, value) in p.unsupported where value.hasEffect {
                    fail("\(field).\(key)", unsupportedMessage("\(field).\(key)"))
                }
                let subject = optionalSubject(p.subject, field: "\(field).subject")
                let personalization = MailPersonalization(
                    to: to, cc: cc, bcc: bcc, subject: subject, headers: strings(p.headers, field: "\(field).headers", headers: true),
                    customArgs: strings(p.customArgs, field: "\(field).custom_args"),
                    sendAt: timestamp(p.sendAt, field: "\(field).send_at"), from: sender)
                recipientCount += personalization.recipients.count
                personalizations.append(personalization)
            }
        } else {
            fail("personalizations", personalizationsMessage)
        }
        if recipientCount > maxRecipients {
            fail(
                "personalizations",
                "The total number of recipients (to, cc and bcc) must not exceed \(maxRecipients); this request has \(recipientCount).")
        }

        // subject
        let subject = optionalSubject(body.subject, field: "subject")
        if subject == nil, case .absent = body.subject, personalizations.isEmpty || personalizations.contains(where: { $0.subject == nil })
        {
            fail("subject", subjectMessage)
        }

        // content
        var content: [MailContent] = []
        if case .value(let items) = body.content, !items.isEmpty {
            for (i, item) in items.enumerated() {
                guard case .value(let c) = item, case .value(let type) = c.type, !type.isEmpty else {
                    fail("content.\(i).type", "The content type must be a string at least one character in length.")
                    continue
                }
                guard isMediaType(type) else {
                    fail("content.\(i).type", "Cannot contain ';', or CRLF characters.")
                    continue
                }
                guard case .value(let value) = c.value, !value.isEmpty else {
                    fail("content.\(i).value", contentValueMessage)
                    continue
                }
                content.append(MailContent(type: type, value: value))
            }
        } else {
            fail("content", contentMessage)
        }

        var categories: [String] = []
        switch body.categories {
        case .absent: break
        case .value(let items) where items.count <= 10: categories = items
        default: fail("categories", "categories must be an array of at most 10 strings")
        }
        let headers = strings(body.headers, field: "headers", headers: true)
        let customArgs = strings(body.customArgs, field: "custom_args")
        let sendAt = timestamp(body.sendAt, field: "send_at")

        var sandbox = false
        var bypass = SuppressionBypass.none
        var requireTLS = false
        switch body.mailSettings {
        case .absent: break
        case .invalid: fail("mail_settings", "mail_settings must be an object")
        case .value(let settings):
            switch settings.sandboxMode {
            case .absent: break
            case .invalid: fail("mail_settings.sandbox_mode", "sandbox_mode must be an object")
            case .value(let mode):
                switch mode.enable {
                case .absent: break
                case .value(let on): sandbox = on
                case .invalid: fail("mail_settings.sandbox_mode.enable", "enable must be a boolean")
                }
            }
            // Shape errors of the switches are named by `unsupported`; here only what is on.
            let on = Set(
                settings.switches.compactMap { s -> String? in
                    if case .value(let v) = s.value, case .value(true) = v.enable { return s.key }
                    return nil
                })
            requireTLS = on.contains("require_tls")
            bypass = SuppressionBypass(
                all: on.contains("bypass_list_management"), bounces: on.contains("bypass_bounce_management"),
                unsubscribes: on.contains("bypass_unsubscribe_management"))
            if bypass.all,
                let other = ["bypass_spam_management", "bypass_bounce_management", "bypass_unsubscribe_management"].first(
                    where: on.contains)
            {
                fail("mail_settings.bypass_list_management", "bypass_list_management cannot be combined with \(other)")
            }
        }

        for p in personalizations {
            var merged = customArgs
            for (k, v) in p.customArgs { merged[k] = v }
            if merged.reduce(0, { $0 + $1.key.utf8.count + $1.value.utf8.count }) > maxCustomArgsBytes {
                fail(
                    "custom_args",
                    "The combined size of global and personalization custom arguments may not exceed 10,000 bytes per personalization.")
                break
            }
        }
        let attachments = attachments(body.attachments, into: &errors)
        unsupported(body, into: &errors)

        if !errors.isEmpty { throw ValidationFailure(errors) }
        var request = MailRequest(
            personalizations: personalizations, from: from!, replyTo: replyTo, subject: subject, content: content,
            attachments: attachments, headers: headers, categories: categories, customArgs: customArgs, sendAt: sendAt,
            sandboxMode: sandbox)
        request.bypass = bypass
        request.requireTLS = requireTLS
        return request
    }

    /// The latest `send_at` accepted now: SendGrid's 72 hours, counted from the end of the
    /// current hour (UTC), so that the limit is one fixed number for an hour at a time and
    /// `/openapi.json` can state it exactly (its `maximum`); at most 59 minutes more lenient.
    public static func latestSendAt(now: Date) -> Int {
        let t = Int(now.timeIntervalSince1970.rounded(.up))
        return (t + 3599) / 3600 * 3600 + Int(maxSchedule)
    }

    /// Headers a request may not set: SendGrid's reserved keys, and those the composer writes.
    static let reservedHeaders: Set<String> = MessageComposer.reservedHeaders.union(["x-sg-id", "x-sg-eid", "dkim-signature"])

    /// `type/subtype` of RFC 6838 §4.2 restricted-name characters, no parameters (SendGrid: no
    /// ';' and no CRLF), at most 255 characters; exactly the pattern `/openapi.json` states.
    static func isMediaType(_ s: String) -> Bool {
        let parts = s.split(separator: "/", omittingEmptySubsequences: false)
        return parts.count == 2 && parts.allSatisfy { !$0.isEmpty && $0.utf8.allSatisfy(isRestrictedNameChar) } && s.utf8.count <= 255
    }

    static func isRestrictedNameChar(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: "!#$&^_.+-".utf8.contains(b)
        }
    }

    /// The address as the envelope and the headers carry it: its domain as A-labels (RFC 5891),
    /// the local part as given (a non-ASCII one travels only with SMTPUTF8). Nil: invalid IDN.
    public static func envelopeForm(_ email: String) -> String? {
        guard let at = email.lastIndex(of: "@") else { return nil }
        let domain = String(email[email.index(after: at)...])
        guard let ascii = IDNA.toASCII(domain) else { return nil }
        return email[..<at] + "@" + ascii
    }

    /// RFC 5322 §3.6.8 field-name: printable US-ASCII except colon, so a custom header can
    /// never be malformed or split into two (found by the request-body fuzzer: `"X- A"`).
    public static func isFieldName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.allSatisfy { $0 >= 33 && $0 <= 126 && $0 != 58 }
    }

    /// A pragmatic RFC 5321 check: `local@domain`, no spaces or controls, sane lengths.
    public static func isValidAddress(_ s: String) -> Bool {
        guard s.utf8.count <= 254, let at = s.lastIndex(of: "@") else { return false }
        let local = s[..<at]
        let domain = s[s.index(after: at)...]
        guard !local.isEmpty, local.utf8.count <= 64, !domain.isEmpty, domain.utf8.count <= 253 else { return false }
        // RFC 5321 dot-string: no leading, trailing or doubled dot in the local part.
        guard !local.hasPrefix("."), !local.hasSuffix("."), !local.contains("..") else { return false }
        if s.contains(where: { $0.isWhitespace || $0.asciiValue.map { $0 < 0x20 || $0 == 0x7F } == true || "<>(),;:\\\"[]".contains($0) }) {
            return false
        }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 63 && !$0.hasPrefix("-") && !$0.hasSuffix("-") })
        else { return false }
        // Host names are letters, digits and hyphens (RFC 1123); non-ASCII stays allowed for
        // internationalised domains (SMTPUTF8). Found by schemathesis: `a@b.example*`.
        guard
            domain.unicodeScalars.allSatisfy({
                !$0.isASCII || $0 == "." || $0 == "-"
                    || ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
            })
        else { return false }
        return true
    }
}

extension String {
    /// Checked on scalars: "\r\n" is one `Character`, equal to neither "\r" nor "\n".
    public var hasLineBreak: Bool { unicodeScalars.contains { $0 == "\r" || $0 == "\n" } }
}
