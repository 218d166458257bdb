import Foundation
import SealpostCore

/// What the claimed deliveries of one message share, read once per message per claim: the
/// 1,000 recipients of a 30 MB message hold one copy of its content (arrays are shared until
/// written), not 1,000. Both backends build claims through this, supplying only the SQL.
public struct ClaimedMessage: Sendable {
    public var mailFrom: String
    public var smtpID: String
    public var content: [UInt8]
    public var categories: [String]
    public var customArgs: [String: String]
    public var smtpUTF8: Bool
    public var requireTLS: Bool

    /// From the stored columns (`categories` and `custom_args` are JSON text).
    public init(
        mailFrom: String, smtpID: String, content: [UInt8], categoriesJSON: String, customArgsJSON: String, smtpUTF8: Bool,
        requireTLS: Bool
    ) throws {
        self.mailFrom = mailFrom
        self.requireTLS = requireTLS
        self.smtpUTF8 = smtpUTF8
        self.smtpID = smtpID
        self.content = content
        let decoder = JSONDecoder()
        self.categories = try decoder.decode([String].self, from: Data(categoriesJSON.utf8))
        self.customArgs = try decoder.decode([String: String].self, from: Data(customArgsJSON.utf8))
    }
}

/// One claimed `deliveries` row, without its message's columns.
public struct ClaimedRow: Sendable {
    public var id: Int64
    public var messageID: String
    public var userID: Int64
    public var recipient: String
    public var domain: String
    /// Attempts including the one just claimed.
    public var attempts: Int
    public var expiresAt: Date

    public init(id: Int64, messageID: String, userID: Int64, recipient: String, domain: String, attempts: Int, expiresAt: Date) {
        self.id = id
        self.messageID = messageID
        self.userID = userID
        self.recipient = recipient
        self.domain = domain
        self.attempts = attempts
        self.expiresAt = expiresAt
    }
}

public enum ClaimAssembly {
    /// The distinct message ids of `rows`, in first-seen order.
    public static func messageIDs(_ rows: [ClaimedRow]) -> [String] {
        var seen = Set<String>()
        return rows.map(\.messageID).filter { seen.insert($0).inserted }
    }

    /// The claimed deliveries in id order, each with its message's shared content.
    public static func deliveries(_ rows: [ClaimedRow], messages: [String: ClaimedMessage]) throws -> [QueuedDelivery] {
        try rows.sorted { $0.id < $1.id }.map { row in
            guard let m = messages[row.messageID] else { throw StoreError.notFound("message \(row.messageID)") }
            return QueuedDelivery(
                id: row.id, messageID: row.messageID, userID: row.userID, recipient: row.recipient, domain: row.domain,
                attempts: row.attempts, mailFrom: m.mailFrom, smtpID: m.smtpID, content: m.content, categories: m.categories,
                customArgs: m.customArgs, expiresAt: row.expiresAt, smtpUTF8: m.smtpUTF8,
                requireTLS: m.requireTLS)
        }
    }
}
