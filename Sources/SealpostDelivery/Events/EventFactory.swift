import Foundation
import SealpostStorage

/// Builds SendGrid Event Webhook events (`processed`, `delivered`, `deferred`, `bounce`…)
/// with Sealpost's additions (`tls_version`, `tls_cipher`, `tls_failure`).
public enum EventFactory {
    public static let tlsBlockReason = "TLS required but not supported"

    /// What every event of one recipient delivery shares.
    public struct Subject: Sendable {
        public var userID: Int64
        public var email: String
        public var messageID: String
        public var smtpID: String
        public var categories: [String]
        public var customArgs: [String: String]

        public init(userID: Int64, email: String, messageID: String, smtpID: String, categories: [String], customArgs: [String: String]) {
            self.userID = userID
            self.email = email
            self.messageID = messageID
            self.smtpID = smtpID
            self.categories = categories
            self.customArgs = customArgs
        }

        public init(_ d: QueuedDelivery) {
            self.init(userID: d.userID, email: d.recipient, messageID: d.messageID, smtpID: d.smtpID, categories: d.categories, customArgs: d.customArgs)
        }
    }

    public static func make(_ event: String, _ s: Subject, fields: [String: Any] = [:], now: Date = Date()) -> EventRecord {
        // Custom args first: reserved keys written after them win (SendGrid's rule).
        var object: [String: Any] = s.customArgs
        object["email"] = s.email
        object["timestamp"] = Int(now.timeIntervalSince1970)
        object["event"] = event
        object["sg_event_id"] = newEventID()
        object["sg_message_id"] = s.messageID
        object["smtp-id"] = s.smtpID
        if !s.categories.isEmpty { object["category"] = s.categories }
        for (k, v) in fields { object[k] = v }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return EventRecord(userID: s.userID, sgEventID: object["sg_event_id"] as! String, event: event, email: s.email,
                           payload: String(decoding: data, as: UTF8.self))
    }

    /// URL-safe, unique, under 100 characters (SendGrid's contract for `sg_event_id`).
    static func newEventID() -> String {
        var rng = SystemRandomNumberGenerator()
        let bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &rng) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}
