import Foundation

/// The target named by an `on-behalf-of` header.
///
/// SendGrid documents two forms: the bare subuser username, and `account-id <id>` for a
/// customer account. The old `subuser_<name>` form never worked there and is not special here.
public enum OnBehalfOf: Sendable, Equatable {
    case subuser(username: String)
    case customer(accountID: Int64)
    /// Anything else (`account-id` with no or a non-numeric id, an empty value): refused
    /// with the same 403 as an unknown target so that nothing can be probed.
    case invalid

    public init(header: String) {
        let value = header.trimmingCharacters(in: .whitespaces)
        if value.isEmpty {
            self = .invalid
            return
        }
        let lower = value.lowercased()
        if lower.hasPrefix("account-id") {
            let rest = value.dropFirst("account-id".count).trimmingCharacters(in: .whitespaces)
            if let id = Int64(rest), id > 0 {
                self = .customer(accountID: id)
            } else {
                self = .invalid
            }
            return
        }
        self = .subuser(username: value)
    }

    /// The header's value in canonical form, as kept in the audit trail.
    public var description: String {
        switch self {
        case .subuser(let username): username
        case .customer(let id): "account-id \(id)"
        case .invalid: "(invalid)"
        }
    }
}
