import Foundation

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

        /// One recipient of a message being accepted (its `processed` or `dropped` event).
        public init(_ m: NewMessage, recipient: String) {
            self.init(
                userID: m.userID, email: recipient, messageID: m.id, smtpID: m.smtpID, categories: m.categories, customArgs: m.customArgs)
        }

        public init(_ d: QueuedDelivery) {
            self.init(
                userID: d.userID, email: d.recipient, messageID: d.messageID, smtpID: d.smtpID, categories: d.categories,
                customArgs: d.customArgs)
        }
    }

    public static func make(_ event: String, _ s: Subject, fields: EventFields = EventFields(), now: Date = Date()) -> EventRecord {
        let payload = EventPayload(
            event: event, subject: s, timestamp: Int(now.timeIntervalSince1970), sgEventID: newEventID(), fields: fields)
        let data = (try? encoder.encode(payload)) ?? Data("{}".utf8)
        var record = EventRecord(
            userID: s.userID, sgEventID: payload.sgEventID, event: event, email: s.email,
            payload: String(decoding: data, as: UTF8.self))
        record.counters = EventCounters.counters(event: event, fields: fields)
        record.day = Int(now.timeIntervalSince1970) / 86_400
        return record
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    /// URL-safe, unique, under 100 characters (SendGrid's contract for `sg_event_id`): 128
    /// random bits as 22 base64url characters. Two draws of the system generator, not one per
    /// byte (each draw is a `getrandom` call; per byte that was 5% of a delivery's CPU).
    static func newEventID() -> String {
        var rng = SystemRandomNumberGenerator()
        return base64URL(rng.next(), rng.next())
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// The 16 bytes of `high` then `low` (big-endian) in base64url without padding.
    static func base64URL(_ high: UInt64, _ low: UInt64) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(18)
        for word in [high, low] {
            for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: word >> UInt64(shift))) }
        }
        bytes.append(contentsOf: [0, 0])  // 16 bytes pad to 18: six groups of three
        return String(unsafeUninitializedCapacity: 24) { out in
            var n = 0
            for i in stride(from: 0, to: 18, by: 3) {
                let v = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
                for shift in [18, 12, 6, 0] {
                    out[n] = alphabet[Int((v >> UInt32(shift)) & 63)]
                    n += 1
                }
            }
            return 22  // 128 bits need 22 characters; the last two only encode the padding
        }
    }
}

/// The delivery fields of an event, each written only when set.
public struct EventFields: Sendable, Equatable {
    public var response: String?
    public var attempt: String?
    /// 1 when the session was encrypted, else 0.
    public var tls: Int?
    public var tlsVersion: String?
    public var tlsCipher: String?
    public var mx: String?
    /// `bounce` or `blocked`, on bounce events.
    public var type: String?
    public var reason: String?
    public var status: String?
    public var tlsFailure: TLSFailureDetail?
    /// On `delivered`: the policy that set the level reached (`opportunistic`, `enforced_tls`,
    /// `domain`, `dane`, `mta-sts`).
    public var tlsPolicy: String?
    /// On `delivered`: what a `testing` MTA-STS policy would have refused (RFC 8460 type).
    public var tlsPolicyViolation: String?
    /// RFC 8460 result types recorded on a delivery that went ahead anyway (`tlsa-invalid`,
    /// `sts-policy-fetch-error`): what a TLS report would list for it.
    public var tlsRecorded: [String]?
    /// On `delivered`: the level reached, for the stats (not part of the event's JSON).
    public var tlsLevel: DeliveredTLSLevel?

    public init(
        response: String? = nil, attempt: String? = nil, tls: Int? = nil, tlsVersion: String? = nil, tlsCipher: String? = nil,
        mx: String? = nil, type: String? = nil, reason: String? = nil, status: String? = nil, tlsFailure: TLSFailureDetail? = nil
    ) {
        self.response = response
        self.attempt = attempt
        self.tls = tls
        self.tlsVersion = tlsVersion
        self.tlsCipher = tlsCipher
        self.mx = mx
        self.type = type
        self.reason = reason
        self.status = status
        self.tlsFailure = tlsFailure
    }
}

/// `tls_failure`: which policy refused, with the RFC 8460 result type.
public struct TLSFailureDetail: Sendable, Equatable, Codable {
    public var resultType: String
    public var policy: String
    public var requiredLevel: String
    public var minimumVersion: String?
    public var mxHost: String?

    public init(resultType: String, policy: String, requiredLevel: String, minimumVersion: String?, mxHost: String?) {
        self.resultType = resultType
        self.policy = policy
        self.requiredLevel = requiredLevel
        self.minimumVersion = minimumVersion
        self.mxHost = mxHost
    }

    enum CodingKeys: String, CodingKey {
        case resultType = "result_type", policy, requiredLevel = "required_level", minimumVersion = "minimum_version", mxHost = "mx_host"
    }
}

/// One event's JSON object. Custom args come first and SendGrid's reserved keys win over them.
struct EventPayload: Encodable {
    var event: String
    var subject: EventFactory.Subject
    var timestamp: Int
    var sgEventID: String
    var fields: EventFields

    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: AnyCodingKey.self)
        var reserved: [(String, any Encodable)] = [
            ("email", subject.email), ("timestamp", timestamp), ("event", event), ("sg_event_id", sgEventID),
            ("sg_message_id", subject.messageID), ("smtp-id", subject.smtpID),
        ]
        if !subject.categories.isEmpty { reserved.append(("category", subject.categories)) }
        let f = fields
        let optional: [(String, (any Encodable)?)] = [
            ("response", f.response), ("attempt", f.attempt), ("tls", f.tls), ("tls_version", f.tlsVersion),
            ("tls_cipher", f.tlsCipher), ("mx", f.mx), ("type", f.type), ("reason", f.reason), ("status", f.status),
            ("tls_failure", f.tlsFailure), ("tls_policy", f.tlsPolicy), ("tls_policy_violation", f.tlsPolicyViolation),
            ("tls_recorded", f.tlsRecorded),
        ]
        for (key, value) in optional { if let value { reserved.append((key, value)) } }
        let taken = Set(reserved.map(\.0))
        for (key, value) in subject.customArgs where !taken.contains(key) { try c.encode(value, forKey: AnyCodingKey(key)) }
        for (key, value) in reserved { try c.encode(value, forKey: AnyCodingKey(key)) }
    }
}
