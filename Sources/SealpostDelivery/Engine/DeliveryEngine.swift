import Foundation
import Logging
import SealpostCore
import SealpostSMTP
import SealpostStorage
import ServiceLifecycle
import Synchronization

enum DeliveryEngineError: Error, CustomStringConvertible {
    case resultsNotRecorded(String)
    var description: String {
        switch self {
        case .resultsNotRecorded(let domain): "results of a session to \(domain) could not be stored; retried after the lease"
        }
    }
}

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
    public var maxSessionsPerDestination = 20
    /// Messages sent over one SMTP session before it is closed.
    public var messagesPerSession = 100
    /// Messages a session may send while the outcomes of earlier ones are still being stored.
    /// 0 (the default) keeps the crash guarantee at one message in doubt per session: the final
    /// `.` of the next message waits until the last message's outcome is committed
    /// (group-committed with every other session's; its envelope and body go out meanwhile).
    /// Each step up lets a crash re-send one more per session.
    public var unconfirmedPerSession = 0
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

/// The deliveries claimed by this node whose results are not stored yet.
final class LeasedDeliveries: Sendable {
    private let ids = Mutex(Set<Int64>())
    func withLock<T: Sendable>(_ body: (inout Set<Int64>) -> T) -> T { ids.withLock { body(&$0) } }
}

/// Whoever wants to know that delivery results were stored.
final class StoredListeners: Sendable {
    private let listeners = Mutex<[@Sendable () -> Void]>([])
    func add(_ listener: @escaping @Sendable () -> Void) { listeners.withLock { $0.append(listener) } }
    func notify() { for listener in listeners.withLock({ $0 }) { listener() } }
}

/// The scheduler: claims due deliveries from the durable queue, groups them by destination and
/// sender policy, delivers each group over shared SMTP sessions, and records every recipient's
/// fate with its event as soon as its SMTP transaction ends (group-committed across sessions).
public final class DeliveryEngine: Service, Sendable {
    /// Only the roles the engine uses: the queue, and the senders' settings.
    let store: any MailQueueStore & EnforcedTLSSource
    /// The senders' Enforced TLS settings; the store unless a test injects faults.
    let settingsSource: any EnforcedTLSSource
    let client: SMTPDeliveryClient
    let resolver: NextHopResolver
    /// The resolver every lookup of a delivery goes through (also the API's domain validation).
    public var dns: DNSClient { resolver.dns }
    let configuration: DeliveryConfiguration
    let recorder: OutcomeRecorder
    /// The recipients' published policies (DANE, MTA-STS), applied with the sender's.
    let recipientPolicies: [any SecurityPolicy]
    /// Added for messages submitted with REQUIRETLS (RFC 8689), made of the same resolver,
    /// routes and MTA-STS policy as the rest.
    let requireTLSPolicy: any SecurityPolicy
    /// Where each round's TLS findings go (`nil`: not recorded).
    let observationStore: (any TLSObservationStore)?
    /// Where each round's sessions go for TLS reporting (`nil`: `--tlsrpt off`).
    let reportStore: (any TLSReportStore)?
    let logger: Logger
    private let wakeSignal = WakeSignal()
    /// When set (SIGTERM), no new work is claimed.
    public let gate: ShutdownGate
    private let inFlight = Mutex(0)
    /// Claimed deliveries whose result is not recorded yet: their leases get renewed.
    private let leased = LeasedDeliveries()
    /// Where every result goes (the sessions' and the deferrals without a connection): as few
    /// transactions as the disk allows; a stored result's delivery needs no heartbeat any more.
    private let sink: OutcomeSink
    /// Called after results (and so events) were stored: the webhook poster's wake-up.
    private let stored = StoredListeners()
    /// Session slots shared by the rounds in flight (`maxSessions`, `maxSessionsPerDestination`).
    private let permits: SessionPermits<Destination>

    public init(
        store: any MailQueueStore & EnforcedTLSSource, client: SMTPDeliveryClient, resolver: NextHopResolver,
        configuration: DeliveryConfiguration, logger: Logger, gate: ShutdownGate = ShutdownGate(),
        settingsSource: (any EnforcedTLSSource)? = nil, recipientPolicies: [any SecurityPolicy] = [],
        observationStore: (any TLSObservationStore)? = nil, reportStore: (any TLSReportStore)? = nil
    ) {
        self.reportStore = reportStore
        self.recipientPolicies = recipientPolicies
        self.requireTLSPolicy = RequireTLSSecurityPolicy(
            dns: resolver.dns, mtaSTS: recipientPolicies.first { $0.name == "mta-sts" }, port: resolver.mxPort,
            routedDomains: Set(resolver.routes.keys))
        self.observationStore = observationStore
        self.gate = gate
        self.store = store
        self.settingsSource = settingsSource ?? store
        self.client = client
        self.resolver = resolver
        self.configuration = configuration
        self.recorder = OutcomeRecorder(configuration: configuration)
        self.permits = SessionPermits(limit: configuration.maxSessions, perKey: configuration.maxSessionsPerDestination)
        self.logger = logger
        let leased = self.leased
        let stored = self.stored
        self.sink = OutcomeSink { [store, logger] updates in
            do {
                try await store.resolve(updates)
                leased.withLock { $0.subtract(updates.map(\.deliveryID)) }
                stored.notify()
                return true
            } catch {
                logger.error(
                    "could not record delivery results; offered again at the end of the session", metadata: ["error": "\(error)"])
                return false
            }
        }
    }

    /// Intake calls this after queueing, so new mail goes out without waiting for a poll.
    public func wake() { wakeSignal.signal() }

    /// `listener` is called after each write of delivery results (their events are stored).
    public func whenResultsStored(_ listener: @escaping @Sendable () -> Void) { stored.add(listener) }

    public func run() async throws {
        logger.info("delivery engine started", metadata: ["max_sessions": "\(configuration.maxSessions)"])
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await self.renewLeasesUntilCancelled() }
                // At most two rounds at once: the next one claims as soon as the last one's
                // first lane is done, so sessions freed at a round's end get work at once
                // (a round's end used to leave the sink idle for about a tenth of the time).
                let rounds = SessionPermits<Int>(limit: Self.roundsInFlight, perKey: Self.roundsInFlight)
                // While draining, rounds claim nothing; the loop itself ends on the engine's own turn.
                while !Task.isShuttingDownGracefully && !Task.isCancelled {
                    await rounds.acquire(0)
                    let signal = RoundSignal()
                    group.addTask {
                        defer { rounds.release(0) }
                        let worked: Bool
                        do {
                            worked = try await self.runOnce(onFirstLaneDone: { signal.fire(true) })
                        } catch {
                            self.logger.error("delivery round failed", metadata: ["error": "\(error)"])
                            worked = false
                        }
                        signal.fire(worked)
                    }
                    if !(await signal.wait()) { await idle() }
                }
                // Every round in flight ends before the leases stop being renewed.
                for _ in 0..<Self.roundsInFlight { await rounds.acquire(0) }
                group.cancelAll()
            }
        } onGracefulShutdown: {
            self.wakeSignal.signal()
        }
        // No session runs any more: the connections kept for the next one end with QUIT.
        await client.connections?.closeAll()
        logger.info("delivery engine stopped")
    }

    /// Scheduling rounds in flight at once (see `run`).
    static let roundsInFlight = 2

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

    /// Waits for a wake-up, the next queued delivery's due time or the poll interval,
    /// whichever comes first (the poll still finds mail queued by other nodes, and leases
    /// that lapsed). At least a millisecond, so a clock step cannot make it spin.
    private func idle() async {
        var wait = configuration.pollInterval
        if let at = try? await store.nextDueAfter(Date()) {
            wait = min(wait, .milliseconds(max(1, Int64((at.timeIntervalSinceNow * 1000).rounded(.up)))))
        }
        await wakeSignal.wait(timeout: wait)
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

    /// One scheduling round. Returns false when nothing was due. `onFirstLaneDone` is
    /// called once, when the first of the round's lanes (its sessions to one destination, one
    /// after another) has ended: the scheduler's cue to claim the next round (the session
    /// slots are shared, so the two never exceed the limits).
    @discardableResult
    public func runOnce(now: Date = Date(), onFirstLaneDone: (@Sendable () -> Void)? = nil) async throws -> Bool {
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
        var entriesByUser: [Int64: [DomainTLSEntry]] = [:]
        var unreadable: Set<Int64> = []
        for userID in Set(claimed.map(\.userID)) {
            do {
                settingsByUser[userID] = try await settingsSource.enforcedTLS(userID: userID)
                entriesByUser[userID] = try await settingsSource.domainTLSEntries(userID: userID)
            } catch {
                // Without both reads the sender's mail is not grouped below: it is only deferred.
                unreadable.insert(userID)
                logger.error(
                    "could not read the sender's Enforced TLS setting; deferring its mail",
                    metadata: [
                        "user_id": "\(userID)", "error": "\(error)",
                    ])
            }
        }
        if !unreadable.isEmpty {
            try await deferWithoutConnecting(
                claimed.filter { unreadable.contains($0.userID) }, Self.settingsUnavailableReply, settings: nil)
        }
        var groups: [Destination: [QueuedDelivery]] = [:]
        var waives: [String: Bool] = [:]  // per message, read once per round
        for d in claimed {
            guard let settings = settingsByUser[d.userID], let entries = entriesByUser[d.userID] else { continue }
            let sender = EnforcedTLSPolicy.governing(account: settings, entries: entries, domain: d.domain)
            // RFC 8689 §5: with REQUIRETLS, a `TLS-Required` header is ignored.
            let waived = !d.requireTLS && (waives[d.messageID] ?? TLSRequiredHeader.waivesRecipientPolicies(d.content))
            waives[d.messageID] = waived
            groups[Destination(domain: d.domain, sender: sender, waived: waived, requireTLS: d.requireTLS), default: []].append(d)
        }
        // Each message's DATA form, built once for all the sessions that carry it this round.
        var wire: [String: [UInt8]] = [:]
        for deliveries in groups.values {
            for d in deliveries where wire[d.messageID] == nil { wire[d.messageID] = dotStuffed(d.content) }
        }
        let wireForms = wire
        // Every destination's policies prepare before any connection, all destinations at once
        // (a slow policy host holds up only its own domain's mail); one that cannot (a lookup
        // failed) defers that destination's mail (fail closed).
        let prepared = await withTaskGroup(of: (Destination, Result<PolicySet, any Error>).self) { group in
            var out: [(Destination, Result<PolicySet, any Error>)] = []
            for destination in groups.keys {
                group.addTask {
                    do {
                        return (
                            destination,
                            .success(
                                try await PolicySet.prepare(self.policies(for: destination), domain: destination.domain))
                        )
                    } catch {
                        return (destination, .failure(error))
                    }
                }
            }
            for await result in group { out.append(result) }
            return out
        }
        var jobs: [(Destination, PolicySet, [[QueuedDelivery]])] = []
        for (destination, result) in prepared {
            let deliveries = groups[destination] ?? []
            let policy: PolicySet
            switch result {
            case .success(let set): policy = set
            case .failure(let error):
                logger.error(
                    "a TLS policy could not prepare; deferring the destination's mail",
                    metadata: [
                        "domain": "\(destination.domain)", "error": "\(error)",
                    ])
                let reply = SMTPReply.local(451, "4.7.5", "TLS policy could not be determined: \(error)")
                try await deferWithoutConnecting(deliveries, reply, settings: destination.sender.settings)
                continue
            }
            // A recipient's policy that rules out the whole domain (a bogus MX RRset under DANE):
            // deferred with its `tls_failure`, nothing connected to.
            if let refusal = policy.domainRefusal {
                logger.info(
                    "delivery attempt",
                    metadata: [
                        "domain": "\(destination.domain)", "recipients": "\(deliveries.count)", "tls_policy": "\(refusal.policy)",
                        "result": "refused by policy \(refusal.policy) before resolving: \(refusal.failure.rawValue)",
                    ])
                let reply = SMTPReply.local(451, "4.7.5", "TLS policy \(refusal.policy) not met: \(refusal.failure.rawValue)")
                try await deferWithoutConnecting(
                    deliveries, reply, settings: destination.sender.settings, refusal: refusal, level: refusal.requiredLevel)
                continue
            }
            for lane in Self.lanes(deliveries, lanes: configuration.maxSessionsPerDestination, perSession: configuration.messagesPerSession)
            {
                jobs.append((destination, policy, lane))
            }
        }
        let observed = ObservationCollector()
        let reported = reportStore.map { _ in TLSRPTCollector() }
        let permits = self.permits
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (destination, policy, lane) in jobs {
                group.addTask {
                    await permits.acquire(destination)
                    defer { permits.release(destination) }
                    for session in lane {
                        // After a failed write the round is cancelled: what is left stays leased
                        // and is retried when the lease lapses.
                        try Task.checkCancellation()
                        try await self.deliver(
                            domain: destination.domain, settings: destination.sender.settings, policy: policy, deliveries: session,
                            wire: wireForms, observed: observed, reported: reported)
                    }
                }
            }
            var first = true
            while try await group.next() != nil {
                if first {
                    first = false
                    onFirstLaneDone?()
                }
            }
        }
        await flush(observed, reported)
        return true
    }

    /// Writes a round's findings, once per round: they inform reports, never a delivery, so a
    /// failed write is logged and the mail goes on.
    private func flush(_ observed: ObservationCollector, _ reported: TLSRPTCollector?) async {
        if let reportStore, let sessions = reported?.drain(), !sessions.isEmpty {
            do {
                try await reportStore.recordTLSRPTSessions(sessions)
            } catch {
                logger.warning("TLS reporting sessions of a delivery round not recorded", metadata: ["error": "\(error)"])
            }
        }
        let found = observed.drain()
        guard let observationStore, !found.isEmpty else { return }
        do {
            try await observationStore.recordTLSObservations(found)
        } catch {
            logger.warning("TLS findings of a delivery round not recorded", metadata: ["error": "\(error)"])
        }
    }

    /// Fail closed: records a deferral (with its event) for mail that no connection was opened
    /// for, because what its TLS policy needs could not be had.
    private func deferWithoutConnecting(
        _ deliveries: [QueuedDelivery], _ reply: SMTPReply, settings: EnforcedTLSSettings?, refusal: PolicyRefusal? = nil,
        level: SecurityLevel? = nil
    ) async throws {
        let now = Date()
        let deferred = DeliveryResult(fate: .deferred(reply, refusal), requiredLevel: level)
        let updates = deliveries.map { recorder.update(for: $0, deferred, settings: settings, now: now) }
        guard await sink.store(updates) else { throw DeliveryEngineError.resultsNotRecorded(deliveries.first?.domain ?? "") }
    }

    // A destination is a recipient domain under one policy: messages of senders with different
    // Enforced TLS settings (or a per-domain entry, which replaces the setting) never share a session.
    fileprivate struct Destination: Hashable {
        var domain: String
        var sender: EnforcedTLSPolicy
        /// `TLS-Required: No` (RFC 8689): the recipients' policies are not asked.
        var waived = false
        /// REQUIRETLS (RFC 8689): secure MX, verified TLS, and a server that passes it on.
        var requireTLS = false
    }

    /// The policies that apply to mail under the sender's governing setting (the account's, or
    /// the recipient domain's entry), and the recipients' published ones (DANE, MTA-STS).
    func policies(for sender: EnforcedTLSPolicy) -> [any SecurityPolicy] {
        Self.policies(for: sender, recipient: recipientPolicies)
    }

    /// A destination's policies: REQUIRETLS first (its refusal, `5.7.30`, is the one its
    /// sender asked about), the sender's, and the recipients' unless `TLS-Required: No` waives them.
    private func policies(for destination: Destination) -> [any SecurityPolicy] {
        let base = destination.waived ? [destination.sender] : policies(for: destination.sender)
        return destination.requireTLS ? [requireTLSPolicy] + base : base
    }

    /// The one place the sender's and the recipients' policies are put together (deliveries and
    /// the pre-flight check alike).
    static func policies(for sender: EnforcedTLSPolicy, recipient: [any SecurityPolicy]) -> [any SecurityPolicy] {
        [sender] + recipient
    }

    /// Splits one destination's deliveries into at most `lanes` lanes, each a list of sessions of
    /// at most `perSession` messages; all recipients of a message stay in one session.
    static func lanes(_ deliveries: [QueuedDelivery], lanes: Int, perSession: Int) -> [[[QueuedDelivery]]] {
        var byMessage: [[QueuedDelivery]] = []
        var index: [String: Int] = [:]
        for d in deliveries {
            if let i = index[d.messageID] {
                byMessage[i].append(d)
            } else {
                index[d.messageID] = byMessage.count
                byMessage.append([d])
            }
        }
        let count = max(1, min(lanes, byMessage.count))
        var laneMessages = Array(repeating: [[QueuedDelivery]](), count: count)
        for (i, message) in byMessage.enumerated() { laneMessages[i % count].append(message) }
        return laneMessages.filter { !$0.isEmpty }.map { messages in
            stride(from: 0, to: messages.count, by: max(1, perSession)).map {
                Array(messages[$0..<min($0 + perSession, messages.count)]).flatMap { $0 }
            }
        }
    }

    /// Delivers one session's chunk to one destination and stores every recipient's outcome.
    func deliver(
        domain: String, settings: EnforcedTLSSettings, policy: PolicySet, deliveries: [QueuedDelivery],
        wire: [String: [UInt8]], observed: ObservationCollector? = nil, reported: TLSRPTCollector? = nil
    ) async throws {
        let destination = DestinationDelivery(
            resolver: resolver, client: client, logger: logger, observations: observed, reports: reported,
            unconfirmedPerSession: configuration.unconfirmedPerSession)
        let recorder = self.recorder
        let sink = self.sink
        let stored = await destination.run(domain: domain, policy: policy, deliveries: deliveries, wire: wire) { results, stored in
            let now = Date()
            sink.add(results.map { recorder.update(for: $0.0, $0.1, settings: settings, now: now) }, done: stored)
        }
        if !stored { throw DeliveryEngineError.resultsNotRecorded(domain) }
    }

    /// The deferral of mail whose sender's setting could not be read (RFC 3463 4.3.0: a
    /// temporary system problem on our side).
    static let settingsUnavailableReply = SMTPReply.local(
        451, "4.3.0", "the sender's Enforced TLS setting could not be read; nothing was sent, will retry")
}
