import Foundation
import Logging
import PostgresNIO
import SealpostCore
import SealpostStorage

extension PostgresStore {
    public func webhookSettings(userID: Int64) async throws -> WebhookSettings {
        try await withConnection { [self] c in
            try await Self.fetchWebhook(c, userID: userID, logger: logger) ?? .disabled
        }
    }

    public func saveWebhookSettings(userID: Int64, _ settings: WebhookSettings) async throws {
        let events = try RowCoding.webhookEvents(settings.events)
        try await transaction { [self] tx in
            var wasEnabled = false
            for try await enabled in try await tx.query(
                "SELECT enabled FROM webhook_settings WHERE user_id = \(userID) FOR UPDATE", logger: logger
            )
            .decode(Bool.self) { wasEnabled = enabled }
            try await tx.query(
                """
                INSERT INTO webhook_settings (user_id, enabled, url, events) VALUES (\(userID), \(settings.enabled), \(settings.url), \(events))
                ON CONFLICT (user_id) DO UPDATE SET enabled = excluded.enabled, url = excluded.url, events = excluded.events
                """, logger: logger)
            if settings.enabled && !wasEnabled {
                // posted_at 0: never sent (happened while the webhook was off).
                try await tx.query("UPDATE events SET posted_at = 0 WHERE user_id = \(userID) AND posted_at IS NULL", logger: logger)
            }
        }
    }

    public func pendingWebhookBatches(limit: Int) async throws -> [WebhookBatch] {
        let now = Date().timeIntervalSince1970
        return try await transaction { [self] tx in
            var users: [(Int64, String, String, ByteBuffer?)] = []
            for try await row in try await tx.query(
                """
                SELECT w.user_id, w.url, w.events, s.private_key FROM webhook_settings w
                LEFT JOIN webhook_signing s ON s.user_id = w.user_id WHERE w.enabled AND w.url <> ''
                """, logger: logger
            )
            .decode((Int64, String, String, ByteBuffer?).self) { users.append(row) }
            var batches: [WebhookBatch] = []
            for (userID, url, eventsJSON, key) in users {
                let settings = WebhookSettings(enabled: true, url: url, events: RowCoding.webhookEvents(json: eventsJSON))
                // Rows another node is reading right now are skipped, and what this node
                // takes is reserved for it: two nodes never post the same event.
                var fetched: [(id: Int64, event: String, payload: String)] = []
                for try await (id, event, payload) in try await tx.query(
                    """
                    SELECT id, event, payload FROM events
                    WHERE user_id = \(userID) AND posted_at IS NULL AND post_lease_until <= \(now)
                    ORDER BY id LIMIT \(limit) FOR UPDATE SKIP LOCKED
                    """, logger: logger
                ).decode((Int64, String, String).self) {
                    fetched.append((id, event, payload))
                }
                let (wanted, skipped) = RowCoding.split(fetched, for: settings)
                if !skipped.isEmpty {
                    try await tx.query("UPDATE events SET posted_at = 0 WHERE id = ANY(\(skipped))", logger: logger)
                }
                if !wanted.isEmpty {
                    try await tx.query(
                        "UPDATE events SET post_lease_until = \(now + WebhookBatch.lease) WHERE id = ANY(\(wanted.map(\.id)))",
                        logger: logger)
                    batches.append(
                        WebhookBatch(userID: userID, url: url, events: wanted, signingKey: key.map { Array($0.readableBytesView) }))
                }
            }
            return batches
        }
    }

    public func markPosted(eventIDs: [Int64]) async throws {
        guard !eventIDs.isEmpty else { return }
        let now = Date().timeIntervalSince1970
        try await withConnection { [logger] c in
            try await c.query("UPDATE events SET posted_at = \(now) WHERE id = ANY(\(eventIDs))", logger: logger)
        }
    }

    public func releaseWebhookEvents(eventIDs: [Int64]) async throws {
        guard !eventIDs.isEmpty else { return }
        try await withConnection { [logger] c in
            try await c.query("UPDATE events SET post_lease_until = 0 WHERE id = ANY(\(eventIDs)) AND posted_at IS NULL", logger: logger)
        }
    }

    public func webhookSigningKey(userID: Int64) async throws -> [UInt8]? {
        try await withConnection { [logger] c in
            for try await key in try await c.query("SELECT private_key FROM webhook_signing WHERE user_id = \(userID)", logger: logger)
                .decode(ByteBuffer.self)
            {
                return Array(key.readableBytesView)
            }
            return nil
        }
    }

    public func enableWebhookSigning(userID: Int64, candidate: [UInt8]) async throws -> [UInt8] {
        let now = Date().timeIntervalSince1970
        return try await transaction { [logger] tx in
            try await tx.query(
                """
                INSERT INTO webhook_signing (user_id, private_key, created_at) VALUES (\(userID), \(ByteBuffer(bytes: candidate)), \(now))
                ON CONFLICT (user_id) DO NOTHING
                """, logger: logger)
            for try await key in try await tx.query("SELECT private_key FROM webhook_signing WHERE user_id = \(userID)", logger: logger)
                .decode(ByteBuffer.self)
            {
                return Array(key.readableBytesView)
            }
            return candidate
        }
    }

    public func disableWebhookSigning(userID: Int64) async throws {
        _ = try await withConnection { [logger] c in
            try await c.query("DELETE FROM webhook_signing WHERE user_id = \(userID)", logger: logger)
        }
    }

    static func fetchWebhook(_ c: PostgresConnection, userID: Int64, logger: Logger) async throws -> WebhookSettings? {
        for try await (enabled, url, events) in try await c.query(
            "SELECT enabled, url, events FROM webhook_settings WHERE user_id = \(userID)", logger: logger
        )
        .decode((Bool, String, String).self) {
            return WebhookSettings(enabled: enabled, url: url, events: RowCoding.webhookEvents(json: events))
        }
        return nil
    }
}
