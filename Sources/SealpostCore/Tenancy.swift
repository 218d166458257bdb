import Foundation

/// The three kinds of user SendGrid has. Each one has its own Enforced TLS setting.
public enum UserKind: String, Sendable, Codable {
    /// A parent account: may own subusers and customer accounts and act on their behalf.
    case account
    /// Addressed by its username in `on-behalf-of: <username>`.
    case subuser
    /// A reseller's customer, addressed by id in `on-behalf-of: account-id <id>`.
    case customer
}

public struct User: Sendable, Equatable, Codable {
    public var id: Int64
    public var kind: UserKind
    /// Unique across all users, so `--user NAME` on the command line is never ambiguous.
    public var name: String
    public var email: String?
    /// Set for subusers and customer accounts; `nil` for parent accounts.
    public var parentID: Int64?
    public var createdAt: Date

    public init(id: Int64, kind: UserKind, name: String, email: String? = nil, parentID: Int64? = nil, createdAt: Date) {
        self.id = id
        self.kind = kind
        self.name = name
        self.email = email
        self.parentID = parentID
        self.createdAt = createdAt
    }
}

/// Rules for user names, shared by the CLI and the HTTP API so both refuse the same input.
public enum UserName {
    public static let maxLength = 64

    /// Letters, digits and `._-@+`: safe in a header value (`on-behalf-of`) and in a log line.
    public static func validationError(_ name: String) -> String? {
        if name.isEmpty { return "must not be empty" }
        if name.count > maxLength { return "must be at most \(maxLength) characters" }
        let allowed = name.unicodeScalars.allSatisfy { s in
            (s.isASCII && (s.properties.isAlphabetic || ("0"..."9").contains(s))) || "._-@+".unicodeScalars.contains(s)
        }
        if !allowed { return "may contain only letters, digits and . _ - @ +" }
        if name.lowercased().hasPrefix("account-id") { return "must not start with account-id" }
        return nil
    }
}
