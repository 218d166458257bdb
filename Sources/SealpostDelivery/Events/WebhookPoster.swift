import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import SealpostCore
import SealpostSMTP
import SealpostStorage
import ServiceLifecycle

/// Posts stored events to each user's Event Webhook as JSON arrays, in batches.
///
/// Events are rows in the store until a receiver answered 2xx, so a receiver that is down, or
/// a restart of Sealpost, delays them but never loses them (at-least-once, like SendGrid).
///
/// It keeps up with delivery: while events are pending it posts round after round without
/// pausing (it sleeps only after a round that found nothing), splits each user's events into
/// POSTs of up to `maxBatchBytes` (SendGrid batches by size too), and has several POSTs in
/// flight per user and in all, bounded. Within one POST a user's events are in order.
public final class WebhookPoster: Service, Sendable {
    public struct Limits: Sendable {
        /// Events fetched (and reserved) per user per round.
        public var eventsPerRound = 2000
        /// Largest JSON array posted at once (SendGrid posts up to about 768 KB).
        public var maxBatchBytes = 768 * 1024
        /// POSTs in flight to one user's receiver, and in all.
        public var inFlightPerUser = 4
        public var inFlight = 32
        public init() {}
    }

    let store: any WebhookStore
    let logger: Logger
    let limits: Limits
    let interval: Duration
    let maxBackoff: Duration
    /// Ends the idle wait early when new events were stored (the engine calls `wake()`), so a
    /// burst's last events go out at once rather than after the rest of an idle interval.
    private let newEvents = WakeSignal()

    /// New events were stored: post them now if the poster is idle.
    public func wake() { newEvents.signal() }

    public init(
        store: any WebhookStore, logger: Logger, limits: Limits = Limits(), interval: Duration = .milliseconds(500),
        maxBackoff: Duration = .seconds(60)
    ) {
        self.store = store
        self.logger = logger
        self.limits = limits
        self.interval = interval
        self.maxBackoff = maxBackoff
    }

    public func run() async throws {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        await cancelWhenGracefulShutdown {
            // Per-user backoff while a receiver fails; the events stay stored meanwhile.
            var failures: [Int64: (count: Int, retryAt: ContinuousClock.Instant)] = [:]
            while !Task.isCancelled {
                var posted = false
                do {
                    posted = try await self.round(client: client, failures: &failures)
                } catch {
                    self.logger.error("webhook round failed", metadata: ["error": "\(error)"])
                }
                if !posted { await self.newEvents.wait(timeout: self.interval) }
            }
        }
        try? await client.shutdown()
    }

    /// One round: fetch, post concurrently, record. True when anything was posted.
    func round(client: HTTPClient, failures: inout [Int64: (count: Int, retryAt: ContinuousClock.Instant)]) async throws -> Bool {
        let batches = try await store.pendingWebhookBatches(limit: limits.eventsPerRound)
        if batches.isEmpty { return false }
        var posts: [WebhookBatch] = []
        var backingOff: [Int64] = []
        for batch in batches {
            // Fetching reserved the events (so another node does not post them too): give them
            // back when they are not posted now.
            if let f = failures[batch.userID], ContinuousClock.now < f.retryAt {
                backingOff += batch.events.map(\.id)
                continue
            }
            posts += Self.split(batch, maxBytes: limits.maxBatchBytes)
        }
        if !backingOff.isEmpty { try await store.releaseWebhookEvents(eventIDs: backingOff) }
        if posts.isEmpty { return false }

        let results = await postAll(posts, client: client)
        var done: [Int64] = []
        var failed: [Int64] = []
        var failedUsers = Set<Int64>()
        for (batch, ok) in results {
            if ok {
                done += batch.events.map(\.id)
            } else {
                failed += batch.events.map(\.id)
                failedUsers.insert(batch.userID)
            }
        }
        if !done.isEmpty { try await store.markPosted(eventIDs: done) }
        if !failed.isEmpty { try await store.releaseWebhookEvents(eventIDs: failed) }
        for batch in posts where !failedUsers.contains(batch.userID) { failures[batch.userID] = nil }
        for user in failedUsers {
            let count = (failures[user]?.count ?? 0) + 1
            let delay = min(maxBackoff, .milliseconds(500) * (1 << min(count, 10)))
            failures[user] = (count, ContinuousClock.now + delay)
        }
        return !done.isEmpty
    }

    /// Posts every batch, at most `inFlightPerUser` per user and `inFlight` in all at once.
    private func postAll(_ posts: [WebhookBatch], client: HTTPClient) async -> [(WebhookBatch, Bool)] {
        // Each user's batches form a queue; a worker slot takes the next batch of a user that
        // has fewer than `inFlightPerUser` in flight.
        var queues: [Int64: ArraySlice<WebhookBatch>] = Dictionary(grouping: posts, by: \.userID).mapValues { ArraySlice($0) }
        var running: [Int64: Int] = [:]
        var results: [(WebhookBatch, Bool)] = []
        await withTaskGroup(of: (WebhookBatch, Bool).self) { group in
            var active = 0
            func next() -> WebhookBatch? {
                for (user, queue) in queues where !queue.isEmpty && running[user, default: 0] < limits.inFlightPerUser {
                    queues[user] = queue.dropFirst()
                    running[user, default: 0] += 1
                    return queue.first
                }
                return nil
            }
            while true {
                while active < limits.inFlight, let batch = next() {
                    group.addTask { (batch, await self.post(batch, client: client)) }
                    active += 1
                }
                guard let finished = await group.next() else { break }
                active -= 1
                running[finished.0.userID, default: 1] -= 1
                results.append(finished)
            }
        }
        return results
    }

    /// Splits one user's events, in order, into batches whose JSON array fits `maxBytes`
    /// (a single event larger than that is posted alone).
    static func split(_ batch: WebhookBatch, maxBytes: Int) -> [WebhookBatch] {
        var out: [WebhookBatch] = []
        var current: [(id: Int64, payload: String)] = []
        var size = 2  // "[" and "]"
        for event in batch.events {
            let added = event.payload.utf8.count + (current.isEmpty ? 0 : 1)
            if !current.isEmpty && size + added > maxBytes {
                out.append(WebhookBatch(userID: batch.userID, url: batch.url, events: current, signingKey: batch.signingKey))
                current = []
                size = 2
            }
            size += event.payload.utf8.count + (current.isEmpty ? 0 : 1)
            current.append(event)
        }
        if !current.isEmpty {
            out.append(WebhookBatch(userID: batch.userID, url: batch.url, events: current, signingKey: batch.signingKey))
        }
        return out
    }

    /// True when the receiver accepted the batch (2xx).
    func post(_ batch: WebhookBatch, client: HTTPClient) async -> Bool {
        var request = HTTPClientRequest(url: batch.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Sealpost Event Webhook")
        var body = ByteBuffer()
        body.writeStaticString("[")
        for (i, event) in batch.events.enumerated() {
            if i > 0 { body.writeStaticString(",") }
            body.writeString(event.payload)
        }
        body.writeStaticString("]")
        if let key = batch.signingKey {
            let timestamp = String(Int(Date().timeIntervalSince1970))
            do {
                let signature = try WebhookSigning.signature(timestamp: timestamp, body: body.readableBytesView, privateKey: key)
                request.headers.add(name: WebhookSigning.signatureHeader, value: signature)
                request.headers.add(name: WebhookSigning.timestampHeader, value: timestamp)
            } catch {
                // Never post unsigned what the user asked to be signed: the events wait.
                logger.error("webhook signing key unusable; events kept", metadata: ["user_id": "\(batch.userID)"])
                return false
            }
        }
        request.body = .bytes(body)
        do {
            let response = try await client.execute(request, timeout: .seconds(10))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            let ok = (200..<300).contains(response.status.code)
            if !ok {
                logger.warning(
                    "webhook receiver refused events", metadata: ["user_id": "\(batch.userID)", "status": "\(response.status.code)"])
            }
            return ok
        } catch {
            logger.warning("webhook receiver unreachable", metadata: ["user_id": "\(batch.userID)", "error": "\(error)"])
            return false
        }
    }
}
