import Foundation

/// SendGrid's Event Webhook settings of one user.
public struct WebhookSettings: Sendable, Equatable {
    /// The per-event switches SendGrid has, in its order.
    public static let eventNames = [
        "bounce", "click", "deferred", "delivered", "dropped", "group_resubscribe", "group_unsubscribe",
        "open", "processed", "spam_report", "unsubscribe",
    ]

    public var enabled: Bool
    public var url: String
    public var events: [String: Bool]

    public init(enabled: Bool = false, url: String = "", events: [String: Bool] = [:]) {
        self.enabled = enabled
        self.url = url
        self.events = events
    }

    public static let disabled = WebhookSettings()

    /// Whether events of this type are posted (`event` as in the payload: `bounce`, `delivered`…).
    public func wants(_ event: String) -> Bool { enabled && (events[event] ?? false) }
}

/// A batch of events of one user, ready to post.
public struct WebhookBatch: Sendable {
    /// Seconds a fetched batch is reserved for the poster that fetched it: no other process
    /// posts the same events meanwhile; if the poster dies, they are posted again after this.
    public static let lease: Double = 60

    public var userID: Int64
    public var url: String
    /// Event row ids and payloads, oldest first.
    public var events: [(id: Int64, payload: String)]
    /// The user's signing key while the signed webhook is on: every POST is signed with it.
    public var signingKey: [UInt8]?

    public init(userID: Int64, url: String, events: [(id: Int64, payload: String)], signingKey: [UInt8]? = nil) {
        self.userID = userID
        self.url = url
        self.events = events
        self.signingKey = signingKey
    }
}
