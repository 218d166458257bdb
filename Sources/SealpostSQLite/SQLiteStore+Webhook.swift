import Foundation
import GRDB
import SealpostCore
import SealpostStorage

extension SQLiteStore {
    public func webhookSettings(userID: Int64) async throws -> WebhookSettings {
        try await pool.read { db in try Self.fetchWebhook(db, userID: userID) ?? .disabled }
    }

    public func saveWebhookSettings(userID: Int64, _ settings: WebhookSettings) async throws {
        let events = try RowCoding.webhookEvents(settings.events)
        try await write([]) { db in
            let wasEnabled = try Self.fetchWebhook(db, userID: userID)?.enabled ?? false
            try db.execute(
                sql: """
                    INSERT INTO webhook_settings (user_id, enabled, url, events) VALUES (?, ?, ?, ?)
                    ON CONFLICT (user_id) DO UPDATE SET enabled = excluded.enabled, url = excluded.url, events = excluded.events
                    """, arguments: [userID, settings.enabled, settings.url, events])
            if settings.enabled && !wasEnabled {
                // posted_at 0: never sent (happened while the webhook was off).
                try db.execute(sql: "UPDATE events SET posted_at = 0 WHERE user_id = ? AND posted_at IS NULL", arguments: [userID])
            }
        }
    }

    public func pendingWebhookBatches(limit: Int) async throws -> [WebhookBatch] {
        let now = Date().timeIntervalSince1970
        return try await write([]) { db in
            var batches: [WebhookBatch] = []
            let users = try Row.fetchAll(
                db,
                sql: """
                    SELECT w.user_id, s.private_key FROM webhook_settings w LEFT JOIN webhook_signing s ON s.user_id = w.user_id
                    WHERE w.enabled = 1 AND w.url != ''
                    """)
            for row in users {
                let userID: Int64 = row["user_id"]
                guard let settings = try Self.fetchWebhook(db, userID: userID) else { continue }
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT id, event, payload FROM events
                        WHERE user_id = ? AND posted_at IS NULL AND post_lease_until <= ? ORDER BY id LIMIT ?
                        """, arguments: [userID, now, limit])
                let (wanted, skipped) = RowCoding.split(
                    rows.map { (id: $0["id"] as Int64, event: $0["event"] as String, payload: $0["payload"] as String) },
                    for: settings)
                for id in skipped { try db.execute(sql: "UPDATE events SET posted_at = 0 WHERE id = ?", arguments: [id]) }
                for (id, _) in wanted {
                    try db.execute(sql: "UPDATE events SET post_lease_until = ? WHERE id = ?", arguments: [now + WebhookBatch.lease, id])
                }
                if !wanted.isEmpty {
                    let key: Data? = row["private_key"]
                    batches.append(WebhookBatch(userID: userID, url: settings.url, events: wanted, signingKey: key.map { Array($0) }))
                }
            }
            return batches
        }
    }

    public func markPosted(eventIDs: [Int64]) async throws {
        let now = Date().timeIntervalSince1970
        try await write([]) { db in
            let statement = try db.cachedStatement(sql: "UPDATE events SET posted_at = ? WHERE id = ?")
            for id in eventIDs { try statement.execute(arguments: [now, id]) }
        }
    }

    public func releaseWebhookEvents(eventIDs: [Int64]) async throws {
        try await write([]) { db in
            let statement = try db.cachedStatement(sql: "UPDATE events SET post_lease_until = 0 WHERE id = ? AND posted_at IS NULL")
            for id in eventIDs { try statement.execute(arguments: [id]) }
        }
    }

    public func webhookSigningKey(userID: Int64) async throws -> [UInt8]? {
        try await pool.read { db in
            try Data.fetchOne(db, sql: "SELECT private_key FROM webhook_signing WHERE user_id = ?", arguments: [userID]).map { Array($0) }
        }
    }

    public func enableWebhookSigning(userID: Int64, candidate: [UInt8]) async throws -> [UInt8] {
        try await write([]) { db in
            try db.execute(
                sql: "INSERT INTO webhook_signing (user_id, private_key, created_at) VALUES (?, ?, ?) ON CONFLICT (user_id) DO NOTHING",
                arguments: [userID, Data(candidate), Date().timeIntervalSince1970])
            let key = try Data.fetchOne(db, sql: "SELECT private_key FROM webhook_signing WHERE user_id = ?", arguments: [userID])
            return key.map { Array($0) } ?? candidate
        }
    }

    public func disableWebhookSigning(userID: Int64) async throws {
        try await write([]) { db in try db.execute(sql: "DELETE FROM webhook_signing WHERE user_id = ?", arguments: [userID]) }
    }

    private static func fetchWebhook(_ db: Database, userID: Int64) throws -> WebhookSettings? {
        guard let row = try Row.fetchOne(db, sql: "SELECT * FROM webhook_settings WHERE user_id = ?", arguments: [userID]) else {
            return nil
        }
        let events = RowCoding.webhookEvents(json: row["events"])
        return WebhookSettings(enabled: row["enabled"], url: row["url"], events: events)
    }
}
