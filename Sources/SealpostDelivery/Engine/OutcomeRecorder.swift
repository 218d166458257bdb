import Foundation
import Metrics
import SealpostCore
import SealpostSMTP
import SealpostStorage

/// What one recipient's delivery came to, with what the event reports about it.
struct DeliveryResult: Sendable, Equatable {
    var fate: RecipientFate
    /// The TLS state of the session that decided the fate (`nil`: none was opened).
    var tls: SessionTLS? = nil
    /// The MX host that decided the fate.
    var mx: String? = nil
    /// The level the policies required at that host (for `tls_failure`).
    var requiredLevel: SecurityLevel? = nil
    /// The policy that set the level at that host (`opportunistic` when none asked for more).
    var tlsPolicy: String? = nil
    /// Failures recorded on a delivery that went ahead (`tlsa-invalid`, `sts-policy-fetch-error`).
    var recorded: [TLSFailure] = []
    /// What a `testing` MTA-STS policy would have refused.
    var violation: TLSFailure? = nil
    /// The recipient's domain does not exist or takes no mail: a bounce puts the address on
    /// the invalid-emails list instead of the bounce list.
    var invalidDomain = false
}

/// Turns results into stored outcomes: the queue row's new state, its event (SendGrid's
/// shape, as `EventFields`), the list entry it adds (blocks after a block, bounces after a
/// server's 5xx, invalid emails after a domain that takes no mail), and the metrics. Pure but for
/// the metrics and the clock it is given.
struct OutcomeRecorder: Sendable {
    let configuration: DeliveryConfiguration

    func update(for d: QueuedDelivery, _ r: DeliveryResult, settings: EnforcedTLSSettings?, now: Date) -> DeliveryUpdate {
        let subject = EventFactory.Subject(d)
        let encrypted = r.tls.map { $0.reached != ReachedLevel.none } ?? false
        var fields = EventFields(tls: encrypted ? 1 : 0, tlsVersion: r.tls?.version?.rawValue, tlsCipher: r.tls?.cipher, mx: r.mx)
        let versionLabel = r.tls?.version?.rawValue ?? "none"
        if !r.recorded.isEmpty { fields.tlsRecorded = r.recorded.map(\.rawValue) }
        func count(_ result: String, _ version: String = versionLabel, policy: String = "-") {
            Counter(
                label: "sealpost_deliveries_total", dimensions: [("result", result), ("tls_version", version), ("tls_policy", policy)]
            ).increment()
        }
        switch r.fate {
        case .delivered(let reply):
            count("delivered", policy: r.tlsPolicy ?? "opportunistic")
            fields.response = reply.summary
            fields.tlsPolicy = r.tlsPolicy ?? "opportunistic"
            fields.tlsPolicyViolation = r.violation?.rawValue
            fields.tlsLevel = Self.level(r.tls)
            return DeliveryUpdate(
                deliveryID: d.id, resolution: .delivered, result: reply.summary,
                event: EventFactory.make("delivered", subject, fields: fields, now: now))
        case .bounced(let reply):
            count("bounced")
            var update = bounce(d, subject, reason: reply.summary, status: Self.status(reply), fields: fields, now: now)
            // The receiver's 5xx lists the address; so does a domain without mail. Sealpost's own
            // refusals of one message (SMTPUTF8, size) do not: the address may take other mail.
            guard !reply.isLocal || r.invalidDomain else { return update }
            update.listing = SuppressionListing(
                r.invalidDomain ? .invalidEmails : .bounces,
                BlockRecord(
                    userID: d.userID, email: d.recipient, reason: reply.summary,
                    status: Self.status(reply), created: Int(now.timeIntervalSince1970)))
            return update
        case .blocked(let refusal):
            count("blocked", "none", policy: refusal.policy)
            let detail = failureDetail(refusal, r, settings: settings)
            let reason = refusal.reason ?? EventFactory.tlsBlockReason
            let blockFields = EventFields(tls: 0, type: "blocked", reason: reason, status: refusal.status, tlsFailure: detail)
            let event = EventFactory.make("bounce", subject, fields: blockFields, now: now)
            let block = BlockRecord(
                userID: d.userID, email: d.recipient, reason: reason, status: refusal.status, created: Int(now.timeIntervalSince1970))
            return DeliveryUpdate(
                deliveryID: d.id, resolution: .blocked, result: "\(reason) (\(refusal.failure.rawValue))",
                event: event, listing: SuppressionListing(.blocks, block))
        case .deferred(let reply, let refusal):
            let delay = min(configuration.maxRetryDelay, configuration.retryBase * pow(2, Double(max(0, d.attempts - 1))))
            let next = now.addingTimeInterval(delay)
            if next > d.expiresAt {
                count("expired")
                let reason = "message expired in queue after \(d.attempts) attempts; last error: \(reply.summary)"
                if let refusal {
                    // A recipient's policy that was never met: blocked at the end, naming the policy.
                    fields.type = "blocked"
                    fields.tlsFailure = failureDetail(refusal, r, settings: settings)
                    fields.reason = "\(reason) (TLS policy \(refusal.policy))"
                    fields.status = "5.7.10"
                    return DeliveryUpdate(
                        deliveryID: d.id, resolution: .bounced, result: fields.reason!,
                        event: EventFactory.make("bounce", subject, fields: fields, now: now))
                }
                return bounce(d, subject, reason: reason, status: Self.status(reply, permanent: true), fields: fields, now: now)
            }
            count("deferred", policy: refusal?.policy ?? "-")
            fields.response = reply.summary
            fields.attempt = String(d.attempts)
            fields.tlsFailure = refusal.map { failureDetail($0, r, settings: settings) }
            return DeliveryUpdate(
                deliveryID: d.id, resolution: .deferred(until: next), result: reply.summary,
                event: EventFactory.make("deferred", subject, fields: fields, now: now))
        }
    }

    private func failureDetail(_ refusal: PolicyRefusal, _ r: DeliveryResult, settings: EnforcedTLSSettings?) -> TLSFailureDetail {
        Self.detail(refusal, requiredLevel: r.requiredLevel, settings: settings, mx: r.mx)
    }

    /// `tls_failure` of a refusal, as block events and the pre-flight check show it.
    static func detail(
        _ refusal: PolicyRefusal, requiredLevel: SecurityLevel?, settings: EnforcedTLSSettings?, mx: String?
    )
        -> TLSFailureDetail
    {
        let level = requiredLevel ?? refusal.requiredLevel ?? settings.map { EnforcedTLSPolicy(settings: $0).level } ?? .may
        return TLSFailureDetail(
            resultType: refusal.failure.rawValue, policy: refusal.policy, requiredLevel: level.description,
            minimumVersion: ["enforced_tls", "domain"].contains(refusal.policy) ? settings?.version.rawValue : nil, mxHost: mx)
    }

    private func bounce(
        _ d: QueuedDelivery, _ subject: EventFactory.Subject, reason: String, status: String, fields: EventFields,
        now: Date
    ) -> DeliveryUpdate {
        var fields = fields
        fields.type = "bounce"
        fields.reason = reason
        fields.status = status
        return DeliveryUpdate(
            deliveryID: d.id, resolution: .bounced, result: reason, event: EventFactory.make("bounce", subject, fields: fields, now: now))
    }

    /// The highest level a delivered message reached: DANE above a PKIX-verified certificate
    /// above encryption alone.
    static func level(_ tls: SessionTLS?) -> DeliveredTLSLevel {
        guard let tls, tls.reached != .none else { return .none }
        if tls.daneAuthenticated { return .dane }
        return tls.certificate == .valid ? .verified : .encrypted
    }

    /// The reply's enhanced status (RFC 3463), or its class's generic one when the server gave
    /// none (`5.0.0`; an expired temporary failure is reported as permanent, `5.4.7`).
    static func status(_ reply: SMTPReply, permanent: Bool = false) -> String {
        if permanent && !reply.isPermanentFailure { return "5.4.7" }
        return reply.enhancedStatus ?? (reply.isPermanentFailure ? "5.0.0" : "4.0.0")
    }
}
