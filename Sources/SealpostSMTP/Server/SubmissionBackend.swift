/// What the submission server asks of the rest of Sealpost: checking an API key, admitting
/// each message (rate limit, shutdown; in memory, answered on the event loop at MAIL), and
/// durable queueing, which re-checks the key first (a revocation applies to the next message).
/// Implemented on the store by `SubmissionIntake` (SealpostSubmission), so this target knows
/// no database.
public protocol SubmissionBackend: Sendable {
    func authenticate(apiKey: String) async -> SubmissionAuthentication
    /// Synchronous and cheap: called on the event loop for every MAIL.
    func admit(_ identity: SubmissionIdentity) -> SubmissionAuthorization
    func submit(
        _ envelope: SMTPServerStateMachine.Envelope, from identity: SubmissionIdentity, peer: String?
    ) async
        -> SubmissionResult
}

/// The key a session logged in with (its id, never the secret) and the user it sends as.
public struct SubmissionIdentity: Sendable, Equatable {
    public var keyID: String
    public var userID: Int64

    public init(keyID: String, userID: Int64) {
        self.keyID = keyID
        self.userID = userID
    }
}

public enum SubmissionAuthentication: Sendable, Equatable {
    case accepted(SubmissionIdentity)
    case rejected
    /// The key could not be checked now (database unavailable).
    case unavailable
}

public enum SubmissionAuthorization: Sendable, Equatable {
    case allowed
    /// The SMTP reply to MAIL, and whether the session must authenticate again.
    case refused(reply: String, signedOut: Bool)
}

public enum SubmissionResult: Sendable, Equatable {
    /// Durably queued; the id is the message's `X-Message-Id`.
    case queued(id: String)
    case failed(reply: String)
    /// The key is no longer valid (revoked, or `mail.send` taken away): the session must log in again.
    case signedOut(reply: String)
}
