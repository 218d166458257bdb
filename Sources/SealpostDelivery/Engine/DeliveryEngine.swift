import Foundation
import Logging
import Metrics
import SealpostSettings
import SealpostStorage
import ServiceLifecycle
import Synchronization

/// Settings of the delivery engine (`sealpost serve` flags).
public struct DeliveryConfiguration: Sendable {
    /// How long a message may stay queued before it bounces (default 72 h).
    public var lifetime: TimeInterval = 72 * 3600
    /// First retry delay; doubles per attempt up to `maxRetryDelay`.
    public var retryBase: TimeInterval = 60
    public var maxRetryDelay: TimeInterval = 3600
    /// Sessions in flight at once, in all.
    public var maxSessions = 32
    /// Sessions in flight at once to one destination (domain and policy); Postfix's default is 20.
    public var maxSessionsPerDestination = 10
    /// Messages sent over one SMTP session before it is closed.
    public var messagesPerSession = 100
    /// Deliveries claimed per scheduling round.
    public var claimBatch = 1000
    /// How long a claimed delivery stays leased to this node without a heartbeat. The engine
    /// renews the leases of deliveries in flight every third of this, so it bounds how long
    /// the work of a node that died waits before another node takes it over.
    public var lease: TimeInterval = 60
    /// Idle poll interval.
    public var pollInterval: Duration = .milliseconds(250)

    public init() {}
}

/// The scheduler: claims due deliveries from the durable queue, groups them by destination and
/// sender policy, delivers each group over shared SMTP sessions, and records every recipient's
/// fate with its event as soon as its SMTP transaction ends (group-committed across sessions).
public final class DeliveryEngine: Service, Sendable {
    let store: any SealpostStore
    /// The senders' Enforced TLS settings; the store unless a test injects faults.
    let settingsSource: any EnforcedTLSSource
    let client: SMTPDeliveryClient
    let resolver: NextHopResolver
    let configuration: DeliveryConfiguration
    let logger: Logger
    private let wakeSignal = WakeSignal()
    /// When set (SIGTERM), no new work is claimed.
    public let gate: ShutdownGate
    private let inFlight = Mutex(0)
    /// Claimed deliveries whose result is not recorded yet: their leases get renewed.
    private let leased = Mutex(Set<Int64>())

    public init(store: any SealpostStore, client: SMTPDeliveryClient, resolver: NextHopResolver,
                configuration: DeliveryConfiguration, logger: Logger, gate: ShutdownGate = ShutdownGate(),
                settingsSource: (any EnforcedTLSSource)? = nil) {
        self.gate = gate
        self.store = store
        self.settingsSource = settingsSource ?? store
        self.client = client
        self.resolver = resolver
        self.configuration = configuration
        self.logger = logger
    }

    /// Intake calls this after queueing, so new mail goes out without waiting for a poll.
    public func wake() { wakeSignal.signal() }

    public func run() async throws {
        logger.info("delivery engine started", metadata: ["max_sessions": "\(configuration.maxSessions)"])
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.renewLeasesUntilCancelled() }
                // While draining, rounds claim nothing; the loop itself ends on the engine's own turn.
                while !Task.isShuttingDownGracefully && !Task.isCancelled {
                    let worked: Bool
                    do {
                        worked = try await runOnce()
                    } catch {
                        logger.error("delivery round failed", metadata: ["error": "\(error)"])
                        worked = false
                    }
                    if !worked { await idle() }
                }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.wakeSignal.signal()
        }
        logger.info("delivery engine stopped")
    }

    /// The heartbeat: keeps the leases of deliveries in flight, so a long session (slow
    /// receivers, a lane with many messages) is never taken over by another node while this
    /// one is alive.
    private func renewLeasesUntilCancelled() async {
        let every = Duration.milliseconds(Int64(configuration.lease * 1000 / 3))
        while !Task.isCancelled {
            do { try await Task.sleep(for: every) } catch { return }
            let ids = leased.withLock { Array($0) }
            guard !ids.isEmpty else { continue }
            do {
                let held = try await store.renewLeases(ids: ids, now: Date(), lease: configuration.lease)
                // Results recorded while renewing are no loss; anything else was taken over.
                let unresolved = leased.withLock { $0.intersection(ids).count }
                if held < unresolved {
                    logger.warning("delivery leases lost to another node", metadata: ["renewed": "\(held)", "unresolved": "\(unresolved)"])
                }
            } catch {
                logger.error("could not renew delivery leases", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Stores results; their deliveries need no heartbeat any more.
    private func record(_ updates: [DeliveryUpdate]) async throws {
        try await store.resolve(updates)
        leased.withLock { $0.subtract(updates.map(\.deliveryID)) }
    }

    /// Waits for a wake-up or the poll interval, whichever comes first.
    private func idle() async {
        await wakeSignal.wait(timeout: configuration.pollInterval)
    }

    /// True once no scheduling round is running, or false after `timeout`.
    public func waitUntilIdle(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if inFlight.withLock({ $0 }) == 0 { return true }
            do { try await Task.sleep(for: .milliseconds(50)) } catch { break }
        }
        return inFlight.withLock { $0 } == 0
    }

    /// One scheduling round. Returns false when nothing was due.
    @discardableResult
    public func runOnce(now: Date = Date()) async throws -> Bool {
        if gate.isDraining { return false }
        inFlight.withLock { $0 += 1 }
        defer { inFlight.withLock { $0 -= 1 } }
        let claimed = try await store.claimDeliveries(now: now, limit: configuration.claimBatch, lease: configuration.lease)
        if claimed.isEmpty { return false }
        leased.withLock { $0.formUnion(claimed.map(\.id)) }
        // Whatever is left unrecorded when the round ends (a failed write) is retried after its
        // lease expires, so stop renewing it.
        defer { leased.withLock { $0.subtract(claimed.map(\.id)) } }
        // Fail closed: a sender whose setting cannot be read gets nothing sent this round. Its
        // deliveries are deferred (with an event) and retried; they never go out at a lower level.
        var settingsByUser: [Int64: EnforcedTLSSettings] = [:]
        var unreadable: [Int64: String] = [:]
        for userID in Set(claimed.map(\.userID)) {
            do {
                settingsByUser[userID] = try await settingsSource.enforcedTLS(userID: userID)
            } catch {
                unreadable[userID] = "\(error)"
                logger.error("could not read the sender's Enforced TLS setting; deferring its mail", metadata: [
                    "user_id": "\(userID)", "error": "\(error)",
                ])
            }
        }
        if !unreadable.isEmpty {
            let now = Date()
            let updates = claimed.filter { unreadable[$0.userID] != nil }.map { d in
                update(for: d, fate: .deferred(Self.settingsUnavailableReply), tls: nil, mx: nil, failure: nil, settings: nil, now: now)
            }
            try await record(updates)
        }
        // A destination is a recipient domain under one policy: messages of senders with different
        // Enforced TLS settings never share a session.
        struct Destination: Hashable { var domain: String; var settings: EnforcedTLSSettings }
        var groups: [Destination: [QueuedDelivery]] = [:]
        for d in claimed {
            guard let settings = settingsByUser[d.userID] else { continue }
            groups[Destination(domain: d.domain, settings: settings), default: []].append(d)
        }
        // One job per lane: a destination gets at most `maxSessionsPerDestination` lanes, and a
        // lane opens one session after the other, each for up to `messagesPerSession` messages.
        var jobs: [(String, EnforcedTLSSettings, [[QueuedDelivery]])] = []
        for (destination, deliveries) in groups {
            let settings = destination.settings
            for lane in Self.lanes(deliveries, lanes: configuration.maxSessionsPerDestination, perSession: configuration.messagesPerSession) {
                jobs.append((destination.domain, settings, lane))
            }
        }
        let maxSessions = configuration.maxSessions
        try await withThrowingTaskGroup(of: Void.self) { group in
            var running = 0
            for (domain, settings, lane) in jobs {
                if running >= maxSessions {
                    try await group.next()
                    running -= 1
                }
                group.addTask {
                    for session in lane { try await self.deliver(domain: domain, settings: settings, deliveries: session) }
                }
                running += 1
            }
            try await group.waitForAll()
        }
        return true
    }

    /// Splits one destination's deliveries into at most `lanes` lanes, each a list of sessions of
    /// at most `perSession` messages; all recipients of a message stay in one session.
    static func lanes(_ deliveries: [QueuedDelivery], lanes: Int, perSession: Int) -> [[[QueuedDelivery]]] {
        var byMessage: [[QueuedDelivery]] = []
        var index: [String: Int] = [:]
        for d in deliveries {
            if let i = index[d.messageID] { byMessage[i].append(d) } else {
                index[d.messageID] = byMessage.count
                byMessage.append([d])
            }
        }
        let count = max(1, min(lanes, byMessage.count))
        var laneMessages = Array(repeating: [[QueuedDelivery]](), count: count)
        for (i, message) in byMessage.enumerated() { laneMessages[i % count].append(message) }
        return laneMessages.filter { !$0.isEmpty }.map { messages in
            stride(from: 0, to: messages.count, by: max(1, perSession)).map { Array(messages[$0..<min($0 + perSession, messages.count)]).flatMap { $0 } }
        }
    }

    /// Delivers one chunk to one destination and stores the outcome of every recipient.
    func deliver(domain: String, settings: EnforcedTLSSettings, deliveries: [QueuedDelivery]) async throws {
        let policy = PolicySet([EnforcedTLSPolicy(settings: settings)])
        var outcomes: [Int64: [HostOutcome]] = [:]
        var sessionTLS: [Int64: SessionTLS] = [:]
        var lastMX: [Int64: String] = [:]
        var failureDetail: [Int64: (TLSFailure, String)] = [:]
        let recorded = Mutex(Set<Int64>())
        let hops = await resolver.resolve(domain: domain)
        switch hops {
        case .undeliverable(let reason):
            for d in deliveries { outcomes[d.id] = [.permanentFailure("550 5.1.2 \(reason)")] }
        case .temporaryFailure(let reason):
            for d in deliveries { outcomes[d.id] = [.temporaryFailure(reason)] }
        case .hosts(let hosts):
            var pending = deliveries
            for hop in hosts where !pending.isEmpty {
                let messages = Self.outbound(pending)
                // Each message's fate is stored as soon as its transaction ends (see MessageDone).
                let earlier = outcomes
                let onMessage: SMTPDeliveryClient.MessageDone = { index, results, tls in
                    var updates: [DeliveryUpdate] = []
                    for (d, result) in zip(messages[index].1, results) {
                        let fate = RecipientFate.combine((earlier[d.id] ?? []) + [Self.hostOutcome(result)])
                        updates.append(self.update(for: d, fate: fate, tls: tls, mx: hop.host, failure: nil, settings: settings, now: Date()))
                    }
                    do {
                        try await self.record(updates)
                        recorded.withLock { $0.formUnion(updates.map(\.deliveryID)) }
                    } catch {
                        self.logger.error("could not record delivery results; they are recorded at the end of the session", metadata: ["error": "\(error)"])
                    }
                }
                let outcome = await deliver(messages.map(\.0), to: hop, policy: policy, onMessage: onMessage)
                var stillPending: [QueuedDelivery] = []
                switch outcome {
                case .unreachable(let reason):
                    for d in pending {
                        outcomes[d.id, default: []].append(.temporaryFailure(reason))
                        lastMX[d.id] = hop.host
                    }
                    stillPending = pending
                    logAttempt(domain: domain, mx: hop.host, tls: nil, result: "unreachable: \(reason)", count: pending.count)
                case .policyRefused(let failure, _):
                    for d in pending {
                        outcomes[d.id, default: []].append(.policyFailure(failure))
                        failureDetail[d.id] = (failure, hop.host)
                        lastMX[d.id] = hop.host
                    }
                    stillPending = pending
                    logAttempt(domain: domain, mx: hop.host, tls: nil, result: "refused by policy: \(failure.rawValue)", count: pending.count)
                case .completed(let tls, let results):
                    for ((_, group), recipientResults) in zip(messages, results) {
                        for (d, result) in zip(group, recipientResults) {
                            lastMX[d.id] = hop.host
                            sessionTLS[d.id] = tls
                            outcomes[d.id, default: []].append(Self.hostOutcome(result))
                        }
                    }
                    logAttempt(domain: domain, mx: hop.host, tls: tls, result: Self.summary(results), count: pending.count)
                }
                pending = stillPending
            }
        }
        let now = Date()
        var updates: [DeliveryUpdate] = []
        let done = recorded.withLock { $0 }
        for d in deliveries where !done.contains(d.id) {
            let fate = RecipientFate.combine(outcomes[d.id] ?? [])
            updates.append(update(for: d, fate: fate, tls: sessionTLS[d.id], mx: lastMX[d.id], failure: failureDetail[d.id], settings: settings, now: now))
        }
        if !updates.isEmpty { try await record(updates) }
    }

    static func hostOutcome(_ result: RecipientResult) -> HostOutcome {
        switch result {
        case .delivered(let reply): .delivered(reply)
        case .permanent(let reply): .permanentFailure(reply)
        case .temporary(let reply): .temporaryFailure(reply)
        }
    }

    /// One session with a next hop, over the first of its addresses that answers.
    private func deliver(_ messages: [OutboundMessage], to hop: NextHop, policy: PolicySet,
                         onMessage: SMTPDeliveryClient.MessageDone?) async -> SessionOutcome {
        guard let addresses = await resolver.addresses(of: hop.host) else {
            return await client.deliver(messages, host: hop.host, port: hop.port, policy: policy, logger: logger, onMessage: onMessage)
        }
        if addresses.isEmpty { return .unreachable("\(hop.host) has no address") }
        var last: SessionOutcome = .unreachable("\(hop.host) has no address")
        for address in addresses {
            last = await client.deliver(messages, host: hop.host, port: hop.port, connectAddress: address, policy: policy, logger: logger,
                                        onMessage: onMessage)
            if case .unreachable = last { continue }
            return last
        }
        return last
    }

    /// Groups deliveries into messages (one transaction per message, all its recipients).
    static func outbound(_ deliveries: [QueuedDelivery]) -> [(OutboundMessage, [QueuedDelivery])] {
        var order: [String] = []
        var byMessage: [String: [QueuedDelivery]] = [:]
        for d in deliveries {
            if byMessage[d.messageID] == nil { order.append(d.messageID) }
            byMessage[d.messageID, default: []].append(d)
        }
        return order.map { id in
            let group = byMessage[id]!
            return (OutboundMessage(id: id, mailFrom: group[0].mailFrom, recipients: group.map(\.recipient), content: group[0].content), group)
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

    private func logAttempt(domain: String, mx: String, tls: SessionTLS?, result: String, count: Int) {
        logger.info("delivery attempt", metadata: [
            "domain": "\(domain)", "mx": "\(mx)", "recipients": "\(count)",
            "tls_level": "\(tls?.reached.rawValue ?? "none")",
            "tls_version": "\(tls?.version?.rawValue ?? "-")", "tls_cipher": "\(tls?.cipher ?? "-")",
            "result": "\(result)",
        ])
    }

    private func update(for d: QueuedDelivery, fate: RecipientFate, tls: SessionTLS?, mx: String?,
                        failure: (TLSFailure, String)?, settings: EnforcedTLSSettings?, now: Date) -> DeliveryUpdate {
        let subject = EventFactory.Subject(d)
        let encrypted = tls.map { $0.reached != ReachedLevel.none } ?? false
        var tlsFields: [String: Any] = ["tls": encrypted ? 1 : 0]
        if let version = tls?.version { tlsFields["tls_version"] = version.rawValue }
        if let cipher = tls?.cipher { tlsFields["tls_cipher"] = cipher }
        if let mx { tlsFields["mx"] = mx }
        let versionLabel = tls?.version?.rawValue ?? "none"
        switch fate {
        case .delivered(let reply):
            Counter(label: "sealpost_deliveries_total", dimensions: [("result", "delivered"), ("tls_version", versionLabel)]).increment()
            var fields = tlsFields
            fields["response"] = reply
            return DeliveryUpdate(deliveryID: d.id, resolution: .delivered, result: reply,
                                  event: EventFactory.make("delivered", subject, fields: fields, now: now))
        case .bounced(let reason):
            Counter(label: "sealpost_deliveries_total", dimensions: [("result", "bounced"), ("tls_version", versionLabel)]).increment()
            return bounce(d, subject: subject, reason: reason, fields: tlsFields, now: now)
        case .blocked(let tlsFailure):
            Counter(label: "sealpost_deliveries_total", dimensions: [("result", "blocked"), ("tls_version", "none")]).increment()
            let settings = settings ?? .default
            let level = EnforcedTLSPolicy(settings: settings).level
            var detail: [String: Any] = [
                "result_type": tlsFailure.rawValue,
                "policy": "enforced_tls",
                "required_level": level.description,
                "minimum_version": settings.version.rawValue,
            ]
            if let failure { detail["mx_host"] = failure.1 }
            let fields: [String: Any] = [
                "type": "blocked", "reason": EventFactory.tlsBlockReason, "status": "5.7.10", "tls": 0, "tls_failure": detail,
            ]
            let event = EventFactory.make("bounce", subject, fields: fields, now: now)
            let block = BlockRecord(userID: d.userID, email: d.recipient, reason: EventFactory.tlsBlockReason, status: "5.7.10", created: Int(now.timeIntervalSince1970))
            return DeliveryUpdate(deliveryID: d.id, resolution: .blocked, result: "\(EventFactory.tlsBlockReason) (\(tlsFailure.rawValue))", event: event, block: block)
        case .deferred(let reason):
            let delay = min(configuration.maxRetryDelay, configuration.retryBase * pow(2, Double(max(0, d.attempts - 1))))
            let next = now.addingTimeInterval(delay)
            if next > d.expiresAt {
                Counter(label: "sealpost_deliveries_total", dimensions: [("result", "expired"), ("tls_version", versionLabel)]).increment()
                return bounce(d, subject: subject, reason: "message expired in queue after \(d.attempts) attempts; last error: \(reason)", fields: tlsFields, now: now)
            }
            Counter(label: "sealpost_deliveries_total", dimensions: [("result", "deferred"), ("tls_version", versionLabel)]).increment()
            var fields = tlsFields
            fields["response"] = reason
            fields["attempt"] = String(d.attempts)
            return DeliveryUpdate(deliveryID: d.id, resolution: .deferred(until: next), result: reason,
                                  event: EventFactory.make("deferred", subject, fields: fields, now: now))
        }
    }

    private func bounce(_ d: QueuedDelivery, subject: EventFactory.Subject, reason: String, fields: [String: Any], now: Date) -> DeliveryUpdate {
        var fields = fields
        fields["type"] = "bounce"
        fields["reason"] = reason
        fields["status"] = Self.enhancedStatus(reason) ?? "5.0.0"
        return DeliveryUpdate(deliveryID: d.id, resolution: .bounced, result: reason, event: EventFactory.make("bounce", subject, fields: fields, now: now))
    }

    /// The deferral of mail whose sender's setting could not be read (RFC 3463 4.3.0: a
    /// temporary system problem on our side).
    static let settingsUnavailableReply = "451 4.3.0 the sender's Enforced TLS setting could not be read; nothing was sent, will retry"

    /// `5.1.1` from `550 5.1.1 user unknown`.
    static func enhancedStatus(_ reply: String) -> String? {
        let parts = reply.split(separator: " ")
        guard parts.count >= 2 else { return nil }
        let candidate = parts[1]
        let pieces = candidate.split(separator: ".")
        guard pieces.count == 3, pieces.allSatisfy({ $0.allSatisfy(\.isNumber) }), let first = pieces.first, ["4", "5"].contains(first) else { return nil }
        return String(candidate)
    }
}
