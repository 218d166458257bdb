import Foundation

// The queue's records, shared by intake, delivery and the stores (no I/O here).

/// A composed message and its recipients, as accepted by `POST /v3/mail/send`.
public struct NewMessage: Sendable, Equatable {
    /// `<X-Message-Id>.<personalization index>`: also the first part of `sg_message_id`.
    public var id: String
    public var xMessageID: String
    public var userID: Int64
    public var mailFrom: String
    /// The Message-ID header with angle brackets (the event's `smtp-id`).
    public var smtpID: String
    public var content: [UInt8]
    public var categories: [String]
    public var customArgs: [String: String]
    public var recipients: [String]
    /// `send_at`: not delivered before this time.
    public var notBefore: Date
    /// An internationalized message (RFC 6532 headers): every copy needs an SMTPUTF8 next hop.
    public var smtpUTF8: Bool
    /// REQUIRETLS (RFC 8689): only over verified TLS to securely found MX hosts that pass the
    /// option on; otherwise it bounces.
    public var requireTLS: Bool

    public init(
        id: String, xMessageID: String, userID: Int64, mailFrom: String, smtpID: String, content: [UInt8],
        categories: [String], customArgs: [String: String], recipients: [String], notBefore: Date, smtpUTF8: Bool = false,
        requireTLS: Bool = false
    ) {
        self.requireTLS = requireTLS
        self.id = id
        self.xMessageID = xMessageID
        self.userID = userID
        self.mailFrom = mailFrom
        self.smtpID = smtpID
        self.content = content
        self.categories = categories
        self.customArgs = customArgs
        self.recipients = recipients
        self.notBefore = notBefore
        self.smtpUTF8 = smtpUTF8
    }
}

/// One recipient delivery claimed by a worker, with what is needed to send it.
public struct QueuedDelivery: Sendable, Equatable {
    public var id: Int64
    public var messageID: String
    public var userID: Int64
    public var recipient: String
    public var domain: String
    public var attempts: Int
    public var mailFrom: String
    public var smtpID: String
    public var content: [UInt8]
    public var categories: [String]
    public var customArgs: [String: String]
    public var expiresAt: Date
    /// See `NewMessage.smtpUTF8`.
    public var smtpUTF8: Bool
    /// See `NewMessage.requireTLS`.
    public var requireTLS: Bool

    public init(
        id: Int64, messageID: String, userID: Int64, recipient: String, domain: String, attempts: Int, mailFrom: String,
        smtpID: String, content: [UInt8], categories: [String], customArgs: [String: String], expiresAt: Date,
        smtpUTF8: Bool = false, requireTLS: Bool = false
    ) {
        self.requireTLS = requireTLS
        self.id = id
        self.messageID = messageID
        self.userID = userID
        self.recipient = recipient
        self.domain = domain
        self.attempts = attempts
        self.mailFrom = mailFrom
        self.smtpID = smtpID
        self.content = content
        self.categories = categories
        self.customArgs = customArgs
        self.expiresAt = expiresAt
        self.smtpUTF8 = smtpUTF8
    }
}

/// An Event Webhook event, stored until posted.
public struct EventRecord: Sendable, Equatable {
    public var userID: Int64
    public var sgEventID: String
    public var event: String
    public var email: String
    /// The JSON object exactly as it will be posted.
    public var payload: String
    /// The stats counters the event adds to when stored (`EventCounters`), on `day` (UTC days
    /// since the epoch). Not read back with the event.
    public var counters: [String] = []
    public var day = 0

    /// Equal when the stored event is: the counters are what storing it did, not part of it.
    public static func == (a: EventRecord, b: EventRecord) -> Bool {
        (a.userID, a.sgEventID, a.event, a.email, a.payload) == (b.userID, b.sgEventID, b.event, b.email, b.payload)
    }

    public init(userID: Int64, sgEventID: String, event: String, email: String, payload: String) {
        self.userID = userID
        self.sgEventID = sgEventID
        self.event = event
        self.email = email
        self.payload = payload
    }
}

/// An entry of one of SendGrid's suppression lists (blocks, bounces, invalid emails,
/// unsubscribes; the last two show fewer of the fields).
public struct BlockRecord: Sendable, Equatable {
    public var userID: Int64
    public var email: String
    public var reason: String
    public var status: String
    public var created: Int

    public init(userID: Int64, email: String, reason: String, status: String, created: Int) {
        self.userID = userID
        self.email = email
        self.reason = reason
        self.status = status
        self.created = created
    }
}

/// The end (or the postponement) of one recipient delivery, with the event it produces.
public struct DeliveryUpdate: Sendable, Equatable {
    public enum Resolution: Sendable, Equatable {
        case delivered
        case bounced
        case blocked
        case deferred(until: Date)
    }

    public var deliveryID: Int64
    public var resolution: Resolution
    public var result: String
    public var event: EventRecord
    /// The list entry the outcome adds (blocks, bounces, invalid emails), if any.
    public var listing: SuppressionListing?

    public init(deliveryID: Int64, resolution: Resolution, result: String, event: EventRecord, listing: SuppressionListing? = nil) {
        self.deliveryID = deliveryID
        self.resolution = resolution
        self.result = result
        self.event = event
        self.listing = listing
    }
}

public struct BlockQuery: Sendable {
    public var startTime: Int?
    public var endTime: Int?
    public var emailPrefix: String?
    public var limit: Int
    public var offset: Int

    public init(startTime: Int? = nil, endTime: Int? = nil, emailPrefix: String? = nil, limit: Int = 500, offset: Int = 0) {
        self.startTime = startTime
        self.endTime = endTime
        self.emailPrefix = emailPrefix
        self.limit = limit
        self.offset = offset
    }
}
