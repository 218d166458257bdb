import Foundation
import HTTPTypes
import Hummingbird
import SealpostCore
import SealpostStorage

/// What intake needs beyond the store.
public struct IntakeConfiguration: Sendable {
    public var heloName: String
    /// How long accepted mail may wait in the queue before it bounces.
    public var lifetime: TimeInterval
    /// Called after mail was queued (wakes the delivery engine).
    public var onQueued: @Sendable () -> Void
    /// Set on SIGTERM: the API answers 503 from then on.
    public var gate: ShutdownGate
    /// `--require-authenticated-domains`: a `From` outside the sender's validated authenticated
    /// domains is refused (SendGrid's sender-identity 403).
    public var requireAuthenticatedDomains = false

    public init(
        heloName: String = "localhost", lifetime: TimeInterval = 72 * 3600, gate: ShutdownGate = ShutdownGate(),
        onQueued: @escaping @Sendable () -> Void = {}
    ) {
        self.heloName = heloName
        self.lifetime = lifetime
        self.gate = gate
        self.onQueued = onQueued
    }
}

/// `POST /v3/mail/send`: validates like SendGrid, composes each personalization, and answers
/// 202 with `X-Message-Id` only once every recipient is durably queued.
struct MailSendRoutes {
    static let path: RouterPath = "/v3/mail/send"
    static let maxBody = 30 * 1024 * 1024
    static let maxRecipients = 1000
    let store: any SealpostStore
    let intake: IntakeConfiguration

    func register(on router: Router<SealpostRequestContext>, known: KnownPaths) {
        router.post(Self.path, use: send)
        router.methodNotAllowed(Self.path.description, allow: [.post], known: known)
    }

    @Sendable func send(_ request: Request, context: SealpostRequestContext) async throws -> Response {
        let principal: Principal
        do {
            principal = try context.require(scope: Scope.mailSend)
        } catch let error as APIError where error.status == .unauthorized {
            // Mail send's own 401 text, as SendGrid answers it.
            throw APIError(.unauthorized, message: "The provided authorization grant is invalid, expired, or revoked")
        }
        let body = try await JSONBody.decode(MailSendBody.self, request, limit: Self.maxBody) ?? MailSendBody()
        let now = Date()
        let mail = try MailRequestValidator.validate(body, maxRecipients: Self.maxRecipients, now: now)
        let xMessageID = Self.newMessageID()
        let composer = MessageComposer(heloName: intake.heloName)
        let dateHeader = MessageComposer.rfc5322Date(now)
        // DKIM: each message signed by the validated domain of its From (or refused without one,
        // under --require-authenticated-domains), before sandbox mode returns: it runs all of this.
        let signing = try await IntakeSigning.load(for: principal.user, store: store)
        if intake.requireAuthenticatedDomains {
            for p in mail.personalizations where signing.signer(forAddress: (p.from ?? mail.from).email) == nil {
                throw APIError(.forbidden, field: "from", message: IntakeSigning.unverifiedFrom)
            }
        }
        var messages: [NewMessage] = []
        for (index, p) in mail.personalizations.enumerated() {
            let id = "\(xMessageID).\(index)"
            let headerID = "\(id)@\(intake.heloName)"
            let composed = composer.compose(mail, personalization: p, messageID: headerID, dateHeader: dateHeader)
            let content: [UInt8]
            do {
                content = try signing.sign(composed, from: (p.from ?? mail.from).email, now: now)
            } catch {
                throw APIError(.serviceUnavailable, message: "the DKIM key of the sending domain cannot be used; nothing was queued")
            }
            var args = mail.customArgs
            for (k, v) in p.customArgs { args[k] = v }
            let sendAt = p.sendAt ?? mail.sendAt
            messages.append(
                NewMessage(
                    id: id, xMessageID: xMessageID, userID: principal.user.id, mailFrom: (p.from ?? mail.from).email,
                    smtpID: "<\(headerID)>", content: content, categories: mail.categories, customArgs: args,
                    recipients: p.recipients.map(\.email), notBefore: sendAt.map { Date(timeIntervalSince1970: TimeInterval($0)) } ?? now,
                    smtpUTF8: SMTPUTF8.headersNeedIt(content), requireTLS: mail.requireTLS))
        }
        // Sandbox mode: everything above ran exactly as for a real send (validation and
        // composition); nothing is queued and no event is stored. SendGrid answers 200.
        if mail.sandboxMode { return Response(status: .ok, headers: [.contentLength: "0"]) }
        // Recipients on the user's suppression lists get `dropped` and are not queued.
        let (queued, events) = try await SuppressionFilter.apply(messages, bypass: mail.bypass, store: store, now: now)
        try await store.enqueue(queued, events: events, lifetime: intake.lifetime)
        intake.onQueued()
        return Response(status: .accepted, headers: [HTTPField.Name("X-Message-Id")!: xMessageID, .contentLength: "0"])
    }

    static func newMessageID() -> String { MessageIDs.newMessageID() }
}
