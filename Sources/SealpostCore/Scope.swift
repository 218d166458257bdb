/// API key scopes, named exactly as SendGrid names them so keys and scripts carry over.
public enum Scope {
    public static let apiKeysCreate = "api_keys.create"
    public static let apiKeysRead = "api_keys.read"
    public static let apiKeysDelete = "api_keys.delete"
    public static let subusersCreate = "subusers.create"
    public static let subusersRead = "subusers.read"
    public static let enforcedTLSRead = "user.settings.enforced_tls.read"
    public static let enforcedTLSUpdate = "user.settings.enforced_tls.update"
    public static let mailSend = "mail.send"
    public static let blocksRead = "suppression.blocks.read"
    public static let blocksDelete = "suppression.blocks.delete"
    public static let bouncesRead = "suppression.bounces.read"
    public static let bouncesDelete = "suppression.bounces.delete"
    public static let invalidEmailsRead = "suppression.invalid_emails.read"
    public static let invalidEmailsDelete = "suppression.invalid_emails.delete"
    public static let unsubscribesRead = "suppression.unsubscribes.read"
    public static let globalSuppressionsCreate = "asm.suppressions.global.create"
    public static let globalSuppressionsRead = "asm.suppressions.global.read"
    public static let globalSuppressionsDelete = "asm.suppressions.global.delete"
    public static let whitelabelRead = "whitelabel.read"
    public static let whitelabelCreate = "whitelabel.create"
    public static let whitelabelUpdate = "whitelabel.update"
    public static let whitelabelDelete = "whitelabel.delete"
    public static let webhookRead = "user.webhooks.event.settings.read"
    public static let webhookUpdate = "user.webhooks.event.settings.update"
    public static let statsRead = "stats.read"

    /// Every scope Sealpost knows. A key created without scopes ("full access") is stored
    /// as such, not as this list, so it also gains scopes that later versions add.
    public static let all: [String] = [
        apiKeysCreate, apiKeysDelete, apiKeysRead,
        subusersCreate, subusersRead,
        enforcedTLSRead, enforcedTLSUpdate,
        mailSend, blocksDelete, blocksRead, bouncesDelete, bouncesRead, invalidEmailsDelete, invalidEmailsRead, unsubscribesRead,
        globalSuppressionsCreate, globalSuppressionsDelete, globalSuppressionsRead,
        webhookRead, webhookUpdate,
        statsRead,
        whitelabelCreate, whitelabelDelete, whitelabelRead, whitelabelUpdate,
    ]

    public static func isKnown(_ scope: String) -> Bool { all.contains(scope) }
}

/// What a key may do: everything, or an explicit list.
public enum ScopeGrant: Sendable, Equatable {
    case fullAccess
    case scopes(Set<String>)

    public func allows(_ scope: String) -> Bool {
        switch self {
        case .fullAccess: true
        case .scopes(let set): set.contains(scope)
        }
    }

    /// The scopes as listed to clients (`GET /v3/scopes`, `GET /v3/api_keys/{id}`), sorted.
    public var listed: [String] {
        switch self {
        case .fullAccess: Scope.all
        case .scopes(let set): set.sorted()
        }
    }

    /// Scopes in `requested` this grant does not hold: a key can only hand out what it has.
    public func missing(from requested: Set<String>) -> [String] {
        switch self {
        case .fullAccess: []
        case .scopes(let set): requested.subtracting(set).sorted()
        }
    }
}
