/// `DELETE /v3/suppression/{list}`: `{"delete_all": true}` or `{"emails": [...]}`, never both
/// (SendGrid's rule).
public struct SuppressionDeleteBody: Decodable, Sendable {
    public static let maxEmails = 1000
    var deleteAll: PatchField<Bool> = .absent
    var emails: PatchField<[String]> = .absent

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        deleteAll = c.field(Bool.self, AnyCodingKey("delete_all"))
        emails = c.field([String].self, AnyCodingKey("emails"))
    }

    /// The addresses to delete, or `nil` for every entry.
    public func validated() throws(ValidationFailure) -> [String]? {
        let all: Bool
        switch deleteAll {
        case .absent: all = false
        case .value(let b): all = b
        case .invalid: throw ValidationFailure([FieldError(field: "delete_all", message: "delete_all must be a boolean")])
        }
        switch emails {
        case .absent:
            guard all else {
                throw ValidationFailure([FieldError(field: nil, message: "either delete_all or emails is required")])
            }
            return nil
        case .invalid: throw ValidationFailure([FieldError(field: "emails", message: "emails must be an array of email addresses")])
        case .value(let list):
            if all { throw ValidationFailure([FieldError(field: "emails", message: "emails cannot be combined with delete_all")]) }
            try SuppressionEmails.check(list, field: "emails")
            return list
        }
    }
}

/// `POST /v3/asm/suppressions/global`: `{"recipient_emails": [...]}`.
public struct GlobalSuppressionsBody: Decodable, Sendable {
    var recipientEmails: PatchField<[String]> = .absent

    public init() {}

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: AnyCodingKey.self)
        recipientEmails = c.field([String].self, AnyCodingKey("recipient_emails"))
    }

    public func validated() throws(ValidationFailure) -> [String] {
        guard case .value(let list) = recipientEmails, !list.isEmpty else {
            throw ValidationFailure([
                FieldError(field: "recipient_emails", message: "recipient_emails must be a non-empty array of email addresses")
            ])
        }
        try SuppressionEmails.check(list, field: "recipient_emails")
        return list
    }
}

enum SuppressionEmails {
    static func check(_ list: [String], field: String) throws(ValidationFailure) {
        if list.count > SuppressionDeleteBody.maxEmails {
            throw ValidationFailure([FieldError(field: field, message: "at most \(SuppressionDeleteBody.maxEmails) addresses at once")])
        }
        if let bad = list.firstIndex(where: { !MailRequestValidator.isValidAddress($0) }) {
            throw ValidationFailure([FieldError(field: "\(field)[\(bad)]", message: "is not a valid email address")])
        }
    }
}
