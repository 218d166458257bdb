import Foundation
import Logging
import SealpostCore
import SealpostSMTP
import SealpostStorage
import Synchronization

/// One session's worth of mail to one recipient domain under one policy set: resolves the
/// next hops, tries them (and each one's addresses) in order under the policies, and comes
/// back with one result per recipient. Results are handed to `record` as soon as a message's
/// transaction ends (a crash later re-sends at most the messages in flight), and the rest at
/// the end.
struct DestinationDelivery: Sendable {
    let resolver: NextHopResolver
    let client: SMTPDeliveryClient
    let logger: Logger
    /// Where sessions that reached the TLS decision are noted (the impact report's data).
    var observations: ObservationCollector? = nil
    /// Where sessions are noted for TLS reporting (not for `--route`d domains: their next hop
    /// is the operator's, not the recipient domain's).
    var reports: TLSRPTCollector? = nil
    /// How many messages a session may send ahead of its stored outcomes (`RecordWindow`).
    var unconfirmedPerSession = 0

    /// Hands results to the store, which calls back with false when it failed (they are
    /// offered again at the end). Called on a session's event loop: it must not block.
    typealias Record = @Sendable (_ results: [(QueuedDelivery, DeliveryResult)], _ stored: @escaping @Sendable (Bool) -> Void) -> Void

    /// False when the last results could not be stored (the caller's round fails; the
    /// deliveries' leases lapse and they are tried again).
    func run(
        domain: String, policy: PolicySet, deliveries: [QueuedDelivery], wire: [String: [UInt8]],
        record: @escaping Record
    ) async -> Bool {
        var outcomes: [Int64: [HostOutcome]] = [:]
        var last: [Int64: (tls: SessionTLS?, mx: String?, level: SecurityLevel?)] = [:]
        let recorded = Mutex(Set<Int64>())
        var invalidDomain = false
        switch await resolver.resolve(domain: domain) {
        case .undeliverable(let reason):
            invalidDomain = true
            for d in deliveries { outcomes[d.id] = [.permanentFailure(.local(550, "5.1.2", reason))] }
        case .temporaryFailure(let reason):
            for d in deliveries { outcomes[d.id] = [.temporaryFailure(.local(451, "4.4.3", reason))] }
        case .hosts(let hosts):
            var pending = deliveries
            for hop in hosts where !pending.isEmpty {
                let level: SecurityLevel
                switch policy.checkMX(hop.host) {
                case .refuse(let refusal):
                    // Never connected to: the policy rules this host out (MTA-STS `mx:` patterns).
                    for d in pending {
                        outcomes[d.id, default: []].append(.policyFailure(refusal))
                        last[d.id] = (nil, hop.host, nil)
                    }
                    log(
                        domain, hop.host, nil, "refused by policy \(refusal.policy) before connecting: \(refusal.failure.rawValue)",
                        pending.count, policy: policy)
                    continue
                case .use(let required):
                    level = required
                }
                let messages = Self.outbound(pending, wire: wire)
                let earlier = outcomes
                let window = RecordWindow(limit: unconfirmedPerSession)
                let onMessage: SMTPDeliveryClient.MessageDone = { index, results, tls, eventLoop in
                    let done = zip(messages[index].1, results).map { d, result in
                        let fate = RecipientFate.combine((earlier[d.id] ?? []) + [Self.hostOutcome(result)])
                        return (d, Self.result(fate, tls: tls, mx: hop.host, level: level, policy: policy))
                    }
                    return window.submit(on: eventLoop) { answered in
                        record(done) { stored in
                            if stored { recorded.withLock { $0.formUnion(done.map(\.0.id)) } }
                            answered()
                        }
                    }
                }
                let endpoints = SessionEndpoints()
                let outcome = await connect(messages.map(\.0), to: hop, policy: policy, onMessage: onMessage, endpoints: endpoints)
                // Every outcome handed over during the session is stored before the next hop
                // or the final results are decided.
                await window.drain()
                let reporting = resolver.routes[domain.lowercased()] == nil ? reports : nil
                var stillPending: [QueuedDelivery] = []
                switch outcome {
                case .unreachable(let reason):
                    for d in pending {
                        outcomes[d.id, default: []].append(.temporaryFailure(.local(451, "4.4.1", reason)))
                        last[d.id] = (nil, hop.host, level)
                    }
                    stillPending = pending
                    log(domain, hop.host, nil, "unreachable: \(reason)", pending.count, policy: policy, level: level)
                case .policyRefused(let refusal, let facts):
                    observations?.add(pending, domain: domain, starttls: facts.starttlsOffered, tls: facts.tls, now: Date())
                    reporting?.add(
                        TLSRPTJudge.session(
                            domain: domain, mxHost: hop.host, policy: policy,
                            failure: TLSRPTJudge.failure(
                                refusal: refusal, starttlsOffered: facts.starttlsOffered, encrypted: facts.tls != nil, violation: nil,
                                recorded: []), endpoints: endpoints, now: Date()))
                    for d in pending {
                        outcomes[d.id, default: []].append(.policyFailure(refusal))
                        last[d.id] = (nil, hop.host, level)
                    }
                    stillPending = pending
                    log(
                        domain, hop.host, nil, "refused by policy \(refusal.policy): \(refusal.failure.rawValue)", pending.count,
                        policy: policy, level: level)
                case .completed(let tls, let results):
                    observations?.add(pending, domain: domain, starttls: tls.reached != .none, tls: tls.facts, now: Date())
                    // RFC 8460 counts TLS connections: a kept one was counted when it was made.
                    (tls.reusedConnection ? nil : reporting)?.add(
                        TLSRPTJudge.session(
                            domain: domain, mxHost: hop.host, policy: policy,
                            failure: TLSRPTJudge.failure(
                                refusal: nil, starttlsOffered: false, encrypted: tls.reached != .none,
                                violation: policy.violation(mxHost: hop.host, tls: tls), recorded: policy.recorded(mxHost: hop.host)),
                            endpoints: endpoints, now: Date()))
                    for ((_, group), recipientResults) in zip(messages, results) {
                        for (d, result) in zip(group, recipientResults) {
                            last[d.id] = (tls, hop.host, level)
                            outcomes[d.id, default: []].append(Self.hostOutcome(result))
                        }
                    }
                    log(
                        domain, hop.host, tls, Self.summary(results), pending.count, policy: policy, level: level,
                        source: policy.levelSource(mxHost: hop.host))
                }
                pending = stillPending
            }
        }
        let done = recorded.withLock { $0 }
        let rest = deliveries.filter { !done.contains($0.id) }.map { d in
            let info = last[d.id]
            return (
                d,
                Self.result(
                    RecipientFate.combine(outcomes[d.id] ?? []), tls: info?.tls ?? nil, mx: info?.mx ?? nil, level: info?.level ?? nil,
                    policy: policy, invalidDomain: invalidDomain)
            )
        }
        if rest.isEmpty { return true }
        return await withCheckedContinuation { continuation in record(rest) { continuation.resume(returning: $0) } }
    }

    /// A recipient's result with what the policies say about the host that decided it.
    static func result(
        _ fate: RecipientFate, tls: SessionTLS?, mx: String?, level: SecurityLevel?, policy: PolicySet, invalidDomain: Bool = false
    ) -> DeliveryResult {
        var r = DeliveryResult(fate: fate, tls: tls, mx: mx, requiredLevel: level)
        r.invalidDomain = invalidDomain
        if let mx {
            r.tlsPolicy = policy.levelSource(mxHost: mx)
            r.recorded = policy.recorded(mxHost: mx)
            r.violation = policy.violation(mxHost: mx, tls: tls)
        }
        return r
    }

    static func hostOutcome(_ result: RecipientResult) -> HostOutcome {
        switch result {
        case .delivered(let reply): .delivered(reply)
        case .permanent(let reply): .permanentFailure(reply)
        case .temporary(let reply): .temporaryFailure(reply)
        }
    }

    /// One session with a next hop, over the first of its addresses that answers (the
    /// pre-flight check runs it with no message).
    func connect(
        _ messages: [OutboundMessage], to hop: NextHop, policy: PolicySet,
        onMessage: SMTPDeliveryClient.MessageDone?, endpoints: SessionEndpoints? = nil
    ) async -> SessionOutcome {
        guard let addresses = await resolver.addresses(of: hop.host) else {
            return await client.deliver(
                messages, host: hop.host, port: hop.port, policy: policy, logger: logger, onMessage: onMessage, endpoints: endpoints)
        }
        if addresses.isEmpty { return .unreachable("\(hop.host) has no address") }
        var last: SessionOutcome = .unreachable("\(hop.host) has no address")
        for address in addresses {
            last = await client.deliver(
                messages, host: hop.host, port: hop.port, connectAddress: address, policy: policy, logger: logger,
                onMessage: onMessage, endpoints: endpoints)
            if case .unreachable = last { continue }
            return last
        }
        return last
    }

    /// Groups deliveries into messages (one transaction per message, all its recipients).
    static func outbound(_ deliveries: [QueuedDelivery], wire: [String: [UInt8]]) -> [(OutboundMessage, [QueuedDelivery])] {
        var order: [String] = []
        var byMessage: [String: [QueuedDelivery]] = [:]
        for d in deliveries {
            if byMessage[d.messageID] == nil { order.append(d.messageID) }
            byMessage[d.messageID, default: []].append(d)
        }
        return order.map { id in
            let group = byMessage[id]!
            let data = wire[id] ?? dotStuffed(group[0].content)
            let message = OutboundMessage(
                id: id, mailFrom: group[0].mailFrom, recipients: group.map(\.recipient), data: data,
                headersNeedSMTPUTF8: group[0].smtpUTF8, requireTLS: group[0].requireTLS)
            return (message, group)
        }
    }

    static func summary(_ results: [[RecipientResult]]) -> String {
        var delivered = 0, permanent = 0, temporary = 0
        for r in results.joined() {
            switch r {
            case .delivered: delivered += 1
            case .permanent: permanent += 1
            case .temporary: temporary += 1
            }
        }
        return "delivered=\(delivered) bounced=\(permanent) deferred=\(temporary)"
    }

    /// Postfix's TLS_README style: every attempt with the level required and reached, the
    /// policies that set it and the TLS version.
    private func log(
        _ domain: String, _ mx: String, _ tls: SessionTLS?, _ result: String, _ count: Int, policy: PolicySet,
        level: SecurityLevel? = nil, source: String? = nil
    ) {
        logger.info(
            "delivery attempt",
            metadata: [
                "domain": "\(domain)", "mx": "\(mx)", "recipients": "\(count)",
                "tls_required": "\(level?.description ?? "-")", "tls_policy": "\(source ?? "-")",
                "tls_level": "\(tls?.reached.rawValue ?? "none")",
                "tls_version": "\(tls?.version?.rawValue ?? "-")", "tls_cipher": "\(tls?.cipher ?? "-")",
                "connection": "\(tls.map { $0.reusedConnection ? "reused" : "new" } ?? "-")",
                "recipient_policies": "\(policy.describe(mxHost: mx))", "result": "\(result)",
            ])
    }
}
