import Foundation
import Logging
import SealpostCore
import SealpostSMTP
import SealpostStorage

/// SMTP submission's backend on the store: the same keys, scopes, rate limit, queue and
/// events as `POST /v3/mail/send`, so mail that arrives over SMTP is delivered, enforced
/// (the key's user's Enforced TLS) and reported exactly like mail from the API.
public struct SubmissionIntake: SubmissionBackend {
    public let store: any SealpostStore
    public let limiter: RateLimiter
    public let heloName: String
    public let lifetime: TimeInterval
    public let gate: ShutdownGate
    public let onQueued: @Sendable () -> Void
    public let logger: Logger
    /// `--require-authenticated-domains`: a `From` outside the validated domains is refused.
    public var requireAuthenticatedDomains = false
    /// The rate-limit bucket of mail send, shared with the HTTP route.
    static let endpoint = "/v3/mail/send"

    public init(
        store: any SealpostStore, limiter: RateLimiter, heloName: String, lifetime: TimeInterval, gate: ShutdownGate,
        logger: Logger, onQueued: @escaping @Sendable () -> Void
    ) {
        self.store = store
        self.limiter = limiter
        self.heloName = heloName
        self.lifetime = lifetime
        self.gate = gate
        self.logger = logger
        self.onQueued = onQueued
    }

    public func authenticate(apiKey: String) async -> SubmissionAuthentication {
        do {
            guard let (key, user) = try await store.consistentReads({ try await KeyAuthenticator(store: store).authenticate(apiKey) }),
                key.grant.allows(Scope.mailSend)
            else { return .rejected }
            return .accepted(SubmissionIdentity(keyID: key.id, userID: user.id))
        } catch {
            logger.warning("submission: API key could not be checked", metadata: ["error": "\(error)"])
            return .unavailable
        }
    }

    /// Per message, at MAIL: one is taken from the key's mail-send rate limit (in memory, so
    /// the event loop answers at once); refused while the server shuts down.
    public func admit(_ identity: SubmissionIdentity) -> SubmissionAuthorization {
        if gate.isDraining { return .refused(reply: "421 4.3.2 Service shutting down; try again later", signedOut: false) }
        let decision = limiter.take(bucket: "key:\(identity.keyID) \(Self.endpoint)")
        guard decision.allowed else {
            return .refused(reply: "451 4.7.0 Rate limit exceeded; try again after \(decision.reset)", signedOut: false)
        }
        return .allowed
    }

    public func submit(
        _ envelope: SMTPServerStateMachine.Envelope, from identity: SubmissionIdentity, peer: String?
    ) async
        -> SubmissionResult
    {
        if gate.isDraining { return .failed(reply: "421 4.3.2 Service shutting down; try again later") }
        // The key must still be live and hold mail.send: a revocation applies to the next message.
        let signing: IntakeSigning
        do {
            guard let (key, user) = try await store.consistentReads({ try await store.keyWithUser(id: identity.keyID) }),
                key.revokedAt == nil, key.grant.allows(Scope.mailSend)
            else { return .signedOut(reply: "554 5.7.8 Authentication credentials invalid (the API key was revoked); log in again") }
            signing = try await IntakeSigning.load(for: user, store: store)
        } catch {
            return .failed(reply: "451 4.3.0 Temporary failure; try again later")
        }
        let now = Date()
        let xMessageID = MessageIDs.newMessageID()
        let id = "\(xMessageID).0"
        let dateHeader = MessageComposer.rfc5322Date(now)
        let helo = envelope.helo.filter { $0.isASCII && !$0.isWhitespace && $0 != ";" && $0 != "(" && $0 != ")" }.prefix(255)
        let with = envelope.tls ? "ESMTPSA" : "ESMTPA"
        let received =
            "from \(helo) (\(peer.map { "[\($0)]" } ?? "unknown")) by \(heloName) (Sealpost) with \(with) id \(xMessageID); \(dateHeader)"
        var message: SubmittedMessage
        do {
            message = try SubmittedMessage.prepare(
                envelope.data, newMessageID: "\(id)@\(heloName)", dateHeader: dateHeader, received: received, now: now)
        } catch {
            return .failed(reply: "550 5.7.1 \(error.reason)")
        }
        // DKIM, by the domain of the message's From (as the API signs).
        let from = IntakeSigning.address(inFromHeader: message.from ?? "")
        if requireAuthenticatedDomains && signing.signer(forAddress: from) == nil {
            return .failed(reply: "550 5.7.1 \(IntakeSigning.unverifiedFrom)")
        }
        do {
            message.content = try signing.sign(message.content, from: from, now: now)
        } catch {
            logger.error("submission: DKIM key unusable", metadata: ["x_message_id": "\(xMessageID)"])
            return .failed(reply: "451 4.3.0 The DKIM key of the sending domain cannot be used; try again later")
        }
        let args = message.instructions.customArgs
        let categories = message.instructions.categories
        let queued = NewMessage(
            id: id, xMessageID: xMessageID, userID: identity.userID, mailFrom: envelope.mailFrom, smtpID: message.smtpID,
            content: message.content, categories: categories, customArgs: args, recipients: envelope.recipients,
            notBefore: message.instructions.sendAt.map { Date(timeIntervalSince1970: TimeInterval($0)) } ?? now,
            // Postfix's rule: a message submitted with SMTPUTF8 and UTF-8 headers stays one; raw
            // 8-bit headers without it (legacy clients) are passed on as they came.
            smtpUTF8: envelope.smtpUTF8 && SMTPUTF8.headersNeedIt(message.content), requireTLS: envelope.requireTLS)
        do {
            // Recipients on the user's suppression lists get `dropped` and are not queued.
            let (kept, events) = try await SuppressionFilter.apply([queued], bypass: .none, store: store, now: now)
            try await store.enqueue(kept, events: events, lifetime: lifetime)
        } catch {
            logger.warning("submission: message could not be queued", metadata: ["error": "\(error)"])
            return .failed(reply: "451 4.3.0 Message not queued (database unavailable); try again later")
        }
        onQueued()
        logger.info(
            "submission queued",
            metadata: [
                "x_message_id": "\(xMessageID)", "user_id": "\(identity.userID)", "recipients": "\(queued.recipients.count)",
                "tls": "\(envelope.tls)", "size": "\(queued.content.count)",
            ])
        return .queued(id: xMessageID)
    }
}
