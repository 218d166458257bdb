import Foundation

/// Who made a settings change: the key, and the `on-behalf-of` value if one was used.
public struct AuditActor: Sendable, Equatable {
    public var keyID: String?
    public var onBehalfOf: String?
    /// `api` or `cli`, so an operator can tell requests from local administration.
    public var via: String

    public init(keyID: String?, onBehalfOf: String?, via: String) {
        self.keyID = keyID
        self.onBehalfOf = onBehalfOf
        self.via = via
    }
}

/// One acknowledged change of a user's Enforced TLS setting.
public struct AuditEntry: Sendable, Equatable {
    public var id: Int64
    public var userID: Int64
    public var userName: String
    public var actor: AuditActor
    public var old: EnforcedTLSSettings
    public var new: EnforcedTLSSettings
    public var at: Date

    public init(id: Int64, userID: Int64, userName: String, actor: AuditActor, old: EnforcedTLSSettings, new: EnforcedTLSSettings, at: Date)
    {
        self.id = id
        self.userID = userID
        self.userName = userName
        self.actor = actor
        self.old = old
        self.new = new
        self.at = at
    }
}

/// One acknowledged change of a per-domain Enforced TLS entry: `old` is nil when the entry was
/// created, `new` when it was deleted.
public struct DomainAuditEntry: Sendable, Equatable {
    public var id: Int64
    public var userID: Int64
    public var userName: String
    public var domain: String
    public var actor: AuditActor
    public var old: EnforcedTLSSettings?
    public var new: EnforcedTLSSettings?
    public var at: Date

    public init(
        id: Int64, userID: Int64, userName: String, domain: String, actor: AuditActor, old: EnforcedTLSSettings?,
        new: EnforcedTLSSettings?, at: Date
    ) {
        self.id = id
        self.userID = userID
        self.userName = userName
        self.domain = domain
        self.actor = actor
        self.old = old
        self.new = new
        self.at = at
    }
}
