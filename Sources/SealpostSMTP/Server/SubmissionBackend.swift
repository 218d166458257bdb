/// What the submission server asks of the rest of Sealpost: checking an API key, the
/// per-message re-check (revocation, rate limit), and durable queueing. Implemented on the
/// store by `SubmissionIntake` (SealpostSubmission), so this target knows no database.
public protocol SubmissionBackend: Sendable {
    func authenticate(apiKey: String) async -> SubmissionAuthentication
    func authorize(_ identity: SubmissionIdentity) async -> SubmissionAuthorization
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
}
