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
            event: event, subject: s, timestamp: Int(now.timeIntervalSince1970), sgEventID: newEventID(now: now), fields: fields)
        var record = EventRecord(
            userID: s.userID, sgEventID: payload.sgEventID, event: event, email: s.email, payload: payload.json())
        record.counters = EventCounters.counters(event: event, fields: fields)
        record.day = Int(now.timeIntervalSince1970) / 86_400
        return record
    }

    /// URL-safe, unique, under 100 characters (SendGrid's contract for `sg_event_id`): 22
    /// base64url characters of 128 bits, the first 44 the event's time in milliseconds and the
    /// other 84 random (two draws of the system generator, not one per byte: per byte that was
    /// 5% of a delivery's CPU).
    ///
    /// Why the time first: `sg_event_id` is a unique index, and a fully random key puts every
    /// new event on a different page of it, so each commit of a few outcomes wrote one more
    /// database page per event. Events made together now share a prefix and land on the same
    /// page. 84 random bits per millisecond keep the IDs unique (the index still checks).
    static func newEventID(now: Date = Date()) -> String {
        var rng = SystemRandomNumberGenerator()
        let milliseconds = UInt64(max(0, now.timeIntervalSince1970 * 1000)) & (1 << 44 - 1)
        return base64URL(milliseconds << 20 | rng.next() >> 44, rng.next())
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

    /// The same JSON as `JSONEncoder` with `.sortedKeys` and `.withoutEscapingSlashes` gives
    /// for `encode(to:)` (a unit test holds the two together), written directly: one event is
    /// stored per recipient and outcome, and the encoder's generic machinery was 6% of a
    /// delivery's CPU.
    func json() -> String {
        var members: [(String, JSONText)] = [
            ("email", .string(subject.email)), ("timestamp", .int(timestamp)), ("event", .string(event)),
            ("sg_event_id", .string(sgEventID)), ("sg_message_id", .string(subject.messageID)), ("smtp-id", .string(subject.smtpID)),
        ]
        if !subject.categories.isEmpty { members.append(("category", .strings(subject.categories))) }
        let f = fields
        let optional: [(String, JSONText?)] = [
            ("response", f.response.map(JSONText.string)), ("attempt", f.attempt.map(JSONText.string)), ("tls", f.tls.map(JSONText.int)),
            ("tls_version", f.tlsVersion.map(JSONText.string)), ("tls_cipher", f.tlsCipher.map(JSONText.string)),
            ("mx", f.mx.map(JSONText.string)), ("type", f.type.map(JSONText.string)), ("reason", f.reason.map(JSONText.string)),
            ("status", f.status.map(JSONText.string)), ("tls_failure", f.tlsFailure.map(\.jsonText)),
            ("tls_policy", f.tlsPolicy.map(JSONText.string)), ("tls_policy_violation", f.tlsPolicyViolation.map(JSONText.string)),
            ("tls_recorded", f.tlsRecorded.map(JSONText.strings)),
        ]
        for (key, value) in optional { if let value { members.append((key, value)) } }
        let taken = Set(members.map(\.0))
        for (key, value) in subject.customArgs where !taken.contains(key) { members.append((key, .string(value))) }
        var out = ""
        out.reserveCapacity(512)
        JSONText.object(members).write(to: &out)
        return out
    }
}

extension TLSFailureDetail {
    var jsonText: JSONText {
        var members: [(String, JSONText)] = [
            ("result_type", .string(resultType)), ("policy", .string(policy)), ("required_level", .string(requiredLevel)),
        ]
        if let minimumVersion { members.append(("minimum_version", .string(minimumVersion))) }
        if let mxHost { members.append(("mx_host", .string(mxHost))) }
        return .object(members)
    }
}

/// The few JSON shapes an event has, written as Foundation's encoder writes them with sorted
/// keys and unescaped slashes: keys in `String` order, `"`, `\\` and control characters
/// escaped (`\n`, `\r`, `\t`, `\b`, `\f`, else `\u00xx`), everything else as it is.
indirect enum JSONText {
    case string(String)
    case int(Int)
    case strings([String])
    case object([(String, JSONText)])

    func write(to out: inout String) {
        switch self {
        case .string(let s): Self.quote(s, to: &out)
        case .int(let n): out += String(n)
        case .strings(let list):
            out += "["
            for (i, s) in list.enumerated() {
                if i > 0 { out += "," }
                Self.quote(s, to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (i, (key, value)) in members.sorted(by: { $0.0 < $1.0 }).enumerated() {
                if i > 0 { out += "," }
                Self.quote(key, to: &out)
                out += ":"
                value.write(to: &out)
            }
            out += "}"
        }
    }

    private static let hex = Array("0123456789abcdef".utf8)

    static func quote(_ s: String, to out: inout String) {
        out += "\""
        var plain = true
        for b in s.utf8 where b < 0x20 || b == 0x22 || b == 0x5C {
            plain = false
            break
        }
        if plain {
            out += s
        } else {
            var bytes: [UInt8] = []
            bytes.reserveCapacity(s.utf8.count + 8)
            for b in s.utf8 {
                switch b {
                case 0x22: bytes += [0x5C, 0x22]
                case 0x5C: bytes += [0x5C, 0x5C]
                case 0x0A: bytes += [0x5C, 0x6E]
                case 0x0D: bytes += [0x5C, 0x72]
                case 0x09: bytes += [0x5C, 0x74]
                case 0x08: bytes += [0x5C, 0x62]
                case 0x0C: bytes += [0x5C, 0x66]
                case ..<0x20: bytes += [0x5C, 0x75, 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 0xF)]]
                default: bytes.append(b)
                }
            }
            out += String(decoding: bytes, as: UTF8.self)
        }
        out += "\""
    }
}
