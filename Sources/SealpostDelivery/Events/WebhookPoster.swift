import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import SealpostStorage
import ServiceLifecycle

/// Posts stored events to each user's Event Webhook as JSON arrays, in batches.
///
/// Events are rows in the store until a receiver answered 2xx, so a receiver that is down, or
/// a restart of Sealpost, delays them but never loses them (at-least-once, like SendGrid).
public final class WebhookPoster: Service, Sendable {
    let store: any SealpostStore
    let logger: Logger
    let batchSize: Int
    let interval: Duration
    let maxBackoff: Duration

    public init(store: any SealpostStore, logger: Logger, batchSize: Int = 100, interval: Duration = .milliseconds(500),
                maxBackoff: Duration = .seconds(60)) {
        self.store = store
        self.logger = logger
        self.batchSize = batchSize
        self.interval = interval
        self.maxBackoff = maxBackoff
    }

    public func run() async throws {
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        await cancelWhenGracefulShutdown {
            // Per-user backoff while a receiver fails; the events stay stored meanwhile.
            var failures: [Int64: (count: Int, retryAt: ContinuousClock.Instant)] = [:]
            while !Task.isCancelled {
                do {
                    for batch in try await self.store.pendingWebhookBatches(limit: self.batchSize) {
                        // Fetching reserved the batch (so another node does not post it too):
                        // give it back when it is not posted now.
                        if let f = failures[batch.userID], ContinuousClock.now < f.retryAt {
                            try await self.store.releaseWebhookEvents(eventIDs: batch.events.map(\.id))
                            continue
                        }
                        if await self.post(batch, client: client) {
                            try await self.store.markPosted(eventIDs: batch.events.map(\.id))
                            failures[batch.userID] = nil
                        } else {
                            try await self.store.releaseWebhookEvents(eventIDs: batch.events.map(\.id))
                            let count = (failures[batch.userID]?.count ?? 0) + 1
                            let delay = min(self.maxBackoff, .milliseconds(500) * (1 << min(count, 10)))
                            failures[batch.userID] = (count, ContinuousClock.now + delay)
                        }
                    }
                } catch {
                    self.logger.error("webhook round failed", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: self.interval)
            }
        }
        try? await client.shutdown()
    }

    /// True when the receiver accepted the batch (2xx).
    func post(_ batch: WebhookBatch, client: HTTPClient) async -> Bool {
        var request = HTTPClientRequest(url: batch.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Sealpost Event Webhook")
        request.body = .bytes(ByteBuffer(string: "[" + batch.events.map(\.payload).joined(separator: ",") + "]"))
        do {
            let response = try await client.execute(request, timeout: .seconds(10))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            let ok = (200..<300).contains(response.status.code)
            if !ok {
                logger.warning("webhook receiver refused events", metadata: ["user_id": "\(batch.userID)", "status": "\(response.status.code)"])
            }
            return ok
        } catch {
            logger.warning("webhook receiver unreachable", metadata: ["user_id": "\(batch.userID)", "error": "\(error)"])
            return false
        }
    }
}
