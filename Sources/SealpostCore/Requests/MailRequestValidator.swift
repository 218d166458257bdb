/// SendGrid's validation of a v3 mail-send body, with its error texts where they are known.
/// All problems are collected and answered at once, each naming its field.
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

    public static func validate(_ body: [String: JSONValue], maxRecipients: Int) throws(ValidationFailure) -> MailRequest {
        var errors: [FieldError] = []
        func fail(_ field: String?, _ message: String) { errors.append(.init(field: field, message: message)) }

        func address(_ value: JSONValue?, field: String, message: String = addressMessage) -> MailAddress? {
            guard case .object(let o)? = value, case .string(let email)? = o["email"] else {
                fail("\(field).email", message)
                return nil
            }
            guard isValidAddress(email) else {
                fail("\(field).email", addressMessage)
                return nil
            }
            var name: String?
            switch o["name"] {
            case .string(let n)?: name = n
            case nil: name = nil
            default:
                fail("\(field).name", "name must be a string")
                return nil
            }
            return MailAddress(email: email, name: name)
        }
        func addresses(_ value: JSONValue?, field: String, required: Bool) -> [MailAddress] {
            guard let value else {
                if required {
                    fail(
                        field,
                        "The \(field) array is required for all personalizations, and must have at least one email object with a valid email address."
                    )
                }
                return []
            }
            guard case .array(let items) = value, !(required && items.isEmpty) else {
                fail(
                    field,
                    "The \(field) array is required for all personalizations, and must have at least one email object with a valid email address."
                )
                return []
            }
            return items.enumerated().compactMap { address($1, field: "\(field).\($0)") }
        }
        func strings(_ value: JSONValue?, field: String, headers: Bool = false) -> [String: String] {
            guard let value else { return [:] }
            guard case .object(let o) = value else {
                fail(field, "\(field) must be an object of strings")
                return [:]
            }
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
                out[k] = s
            }
            return out
        }
        /// Absent is fine (the other level may have one); present means a non-empty string.
        func optionalSubject(_ value: JSONValue?, field: String) -> String? {
            switch value {
            case nil: return nil
            case .string(let s) where !s.isEmpty: return s
            case .string: fail(field, "The subject must be at least one character long.")
            default: fail(field, "The subject must be a string.")
            }
            return nil
        }
        func timestamp(_ value: JSONValue?, field: String) -> Int? {
            guard let value else { return nil }
            guard case .number(let n) = value, n >= 0, n < 4_102_444_800, n == n.rounded() else {
                fail(field, "send_at must be a Unix timestamp")
                return nil
            }
            return Int(n)
        }

        // from
        let from = address(body["from"], field: "from", message: fromMessage)
        if body["from"] == nil || from == nil, !errors.contains(where: { $0.field == "from.email" }) { fail("from.email", fromMessage) }
        let replyTo = body["reply_to"].flatMap { address($0, field: "reply_to") }

        // personalizations
        var personalizations: [MailPersonalization] = []
        var recipientCount = 0
        if case .array(let items)? = body["personalizations"], !items.isEmpty {
            if items.count > 1000 {
                fail("personalizations", "The personalizations field must not contain more than 1000 personalizations.")
            }
            for (i, item) in items.prefix(1000).enumerated() {
                let field = "personalizations.\(i)"
                guard case .object(let p) = item else {
                    fail(field, "Each personalization must be an object.")
                    continue
                }
                let to = addresses(p["to"], field: "\(field).to", required: true)
                let cc = addresses(p["cc"], field: "\(field).cc", required: false)
                let bcc = addresses(p["bcc"], field: "\(field).bcc", required: false)
                let subject = optionalSubject(p["subject"], field: "\(field).subject")
                let personalization = MailPersonalization(
                    to: to, cc: cc, bcc: bcc, subject: subject, headers: strings(p["headers"], field: "\(field).headers", headers: true),
                    customArgs: strings(p["custom_args"], field: "\(field).custom_args"),
                    sendAt: timestamp(p["send_at"], field: "\(field).send_at"))
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
        let subject = optionalSubject(body["subject"], field: "subject")
        if subject == nil, body["subject"] == nil, personalizations.isEmpty || personalizations.contains(where: { $0.subject == nil }) {
            fail("subject", subjectMessage)
        }

        // content
        var content: [MailContent] = []
        if case .array(let items)? = body["content"], !items.isEmpty {
            for (i, item) in items.enumerated() {
                guard case .object(let c) = item, case .string(let type)? = c["type"], !type.isEmpty,
                    !type.hasLineBreak
                else {
                    fail("content.\(i).type", "The content type must be a string at least one character in length.")
                    continue
                }
                guard case .string(let value)? = c["value"], !value.isEmpty else {
                    fail("content.\(i).value", contentValueMessage)
                    continue
                }
                content.append(MailContent(type: type, value: value))
            }
        } else {
            fail("content", contentMessage)
        }

        var categories: [String] = []
        if let value = body["categories"] {
            if case .array(let items) = value, items.count <= 10,
                items.allSatisfy({ if case .string = $0 { return true } else { return false } })
            {
                categories = items.compactMap { if case .string(let s) = $0 { return s } else { return nil } }
            } else {
                fail("categories", "categories must be an array of at most 10 strings")
            }
        }
        let headers = strings(body["headers"], field: "headers", headers: true)
        let customArgs = strings(body["custom_args"], field: "custom_args")
        let sendAt = timestamp(body["send_at"], field: "send_at")

        if !errors.isEmpty { throw ValidationFailure(errors) }
        return MailRequest(
            personalizations: personalizations, from: from!, replyTo: replyTo, subject: subject, content: content,
            headers: headers, categories: categories, customArgs: customArgs, sendAt: sendAt)
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
