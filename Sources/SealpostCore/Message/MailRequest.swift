/// A validated `POST /v3/mail/send` request: the parts Sealpost uses of SendGrid's v3 schema.
public struct MailAddress: Sendable, Equatable, Codable {
    public var email: String
    public var name: String?

    public init(email: String, name: String? = nil) {
        self.email = email
        self.name = name
    }

    /// The domain part, lower-cased: the routing key of a delivery.
    public var domain: String {
        email.split(separator: "@").last.map { $0.lowercased() } ?? ""
    }
}

public struct MailPersonalization: Sendable, Equatable, Codable {
    /// `personalizations[].from`: this personalization's sender, in place of the request's.
    public var from: MailAddress?
    public var to: [MailAddress]
    public var cc: [MailAddress]
    public var bcc: [MailAddress]
    public var subject: String?
    public var headers: [String: String]
    public var customArgs: [String: String]
    public var sendAt: Int?

    public init(
        to: [MailAddress], cc: [MailAddress] = [], bcc: [MailAddress] = [], subject: String? = nil,
        headers: [String: String] = [:], customArgs: [String: String] = [:], sendAt: Int? = nil, from: MailAddress? = nil
    ) {
        self.from = from
        self.to = to
        self.cc = cc
        self.bcc = bcc
        self.subject = subject
        self.headers = headers
        self.customArgs = customArgs
        self.sendAt = sendAt
    }

    /// Every envelope recipient of this personalization, in order (the validator refuses an
    /// address given twice, as SendGrid does; each is still taken once here).
    public var recipients: [MailAddress] {
        var seen = Set<String>()
        return (to + cc + bcc).filter { seen.insert($0.email.lowercased()).inserted }
    }
}

public struct MailContent: Sendable, Equatable, Codable {
    public var type: String
    public var value: String

    public init(type: String, value: String) {
        self.type = type
        self.value = value
    }
}

/// `attachments[]`: the decoded bytes, exactly as they will arrive.
public struct MailAttachment: Sendable, Equatable, Codable {
    public enum Disposition: String, Sendable, Codable { case attachment, inline }
    public var content: [UInt8]
    public var type: String
    public var filename: String
    public var disposition: Disposition
    /// Without angle brackets; required for `inline`.
    public var contentID: String?

    public init(
        content: [UInt8], type: String = "application/octet-stream", filename: String,
        disposition: Disposition = .attachment, contentID: String? = nil
    ) {
        self.content = content
        self.type = type
        self.filename = filename
        self.disposition = disposition
        self.contentID = contentID
    }
}

public struct MailRequest: Sendable, Equatable, Codable {
    public var personalizations: [MailPersonalization]
    public var from: MailAddress
    /// `reply_to`, or every address of `reply_to_list` (one Reply-To header either way).
    public var replyTo: [MailAddress]
    public var attachments: [MailAttachment]
    public var subject: String?
    public var content: [MailContent]
    public var headers: [String: String]
    public var categories: [String]
    public var customArgs: [String: String]
    public var sendAt: Int?
    /// `mail_settings.sandbox_mode.enable`: validate exactly as a real send, queue nothing.
    public var sandboxMode: Bool
    /// `mail_settings.bypass_*`: the suppression lists this send skips.
    public var bypass: SuppressionBypass = .none
    /// `mail_settings.require_tls` (Sealpost's extension): the message is sent as with
    /// `MAIL FROM:<…> REQUIRETLS` (RFC 8689).
    public var requireTLS = false

    public init(
        personalizations: [MailPersonalization], from: MailAddress, replyTo: [MailAddress] = [], subject: String? = nil,
        content: [MailContent], attachments: [MailAttachment] = [], headers: [String: String] = [:], categories: [String] = [],
        customArgs: [String: String] = [:], sendAt: Int? = nil, sandboxMode: Bool = false
    ) {
        self.attachments = attachments
        self.sandboxMode = sandboxMode
        self.personalizations = personalizations
        self.from = from
        self.replyTo = replyTo
        self.subject = subject
        self.content = content
        self.headers = headers
        self.categories = categories
        self.customArgs = customArgs
        self.sendAt = sendAt
    }
}
