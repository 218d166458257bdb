import Foundation
import GRDB
import SealpostCore
import SealpostStorage

extension SQLiteStore {
    public func enqueue(_ messages: [NewMessage], events: [EventRecord], lifetime: TimeInterval) async throws {
        try await enqueueWrites.submit(Enqueue(messages: messages, events: events, lifetime: lifetime))
    }

    /// One request's mail: its messages, their recipients and `processed` events.
    struct Enqueue: Sendable {
        var messages: [NewMessage]
        var events: [EventRecord]
        var lifetime: TimeInterval
    }

    /// One transaction (and one fsync) for the mail of several concurrent requests. Should
    /// that transaction fail, each request is committed on its own, so one request's error
    /// (a constraint) never fails the others'.
    static func commitEnqueues(_ batches: [Enqueue], pool: DatabasePool) async -> [Result<Void, any Error>] {
        let now = Date().timeIntervalSince1970
        do {
            try await pool.write { db in for b in batches { try insert(b, db: db, now: now) } }
            return batches.map { _ in .success(()) }
        } catch  where batches.count > 1 {
            var results: [Result<Void, any Error>] = []
            for b in batches {
                do {
                    try await pool.write { db in try insert(b, db: db, now: now) }
                    results.append(.success(()))
                } catch {
                    results.append(.failure(error))
                }
            }
            return results
        } catch {
            return [.failure(error)]
        }
    }

    /// Queue rows touch no cached scope, so no change-log entry is written with them.
    private static func insert(_ b: Enqueue, db: Database, now: Double) throws {
        for m in b.messages {
            try db.cachedStatement(
                sql: """
                    INSERT INTO messages (id, x_message_id, user_id, mail_from, smtp_id, content, categories, custom_args, created_at, smtputf8, require_tls)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """
            ).execute(arguments: [
                m.id, m.xMessageID, m.userID, m.mailFrom, m.smtpID, Data(m.content),
                try RowCoding.json(m.categories), try RowCoding.json(m.customArgs), now, m.smtpUTF8, m.requireTLS,
            ])
            let due = max(now, m.notBefore.timeIntervalSince1970)
            let statement = try db.cachedStatement(
                sql: """
                    INSERT INTO deliveries (message_id, user_id, recipient, domain, state, next_attempt_at, expires_at, updated_at)
                    VALUES (?, ?, ?, ?, 'queued', ?, ?, ?)
                    """)
            for recipient in m.recipients {
                try statement.execute(arguments: [
                    m.id, m.userID, recipient, RowCoding.domain(ofRecipient: recipient), due, due + b.lifetime, now,
                ])
            }
        }
        try insert(b.events, db: db, now: now)
    }

    public func claimDeliveries(now: Date, limit: Int, lease: TimeInterval) async throws -> [QueuedDelivery] {
        let t = now.timeIntervalSince1970
        let owner = leaseOwner
        return try await write([]) { db in
            let rows = try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT id, message_id, user_id, recipient, domain, attempts, expires_at FROM deliveries
                        WHERE state = 'queued' AND next_attempt_at <= ? AND lease_until <= ?
                        ORDER BY next_attempt_at, id LIMIT ?
                        """), arguments: [t, t, limit])
            let leaseStatement = try db.cachedStatement(
                sql: "UPDATE deliveries SET lease_until = ?, lease_owner = ?, attempts = attempts + 1 WHERE id = ?")
            let claimed = try rows.map { row in
                let id: Int64 = row["id"]
                try leaseStatement.execute(arguments: [t + lease, owner, id])
                return ClaimedRow(
                    id: id, messageID: row["message_id"], userID: row["user_id"], recipient: row["recipient"],
                    domain: row["domain"], attempts: (row["attempts"] as Int) + 1,
                    expiresAt: Date(timeIntervalSince1970: row["expires_at"]))
            }
            let messageStatement = try db.cachedStatement(
                sql: "SELECT mail_from, smtp_id, content, categories, custom_args, smtputf8, require_tls FROM messages WHERE id = ?")
            var messages: [String: ClaimedMessage] = [:]
            for id in ClaimAssembly.messageIDs(claimed) {
                guard let m = try Row.fetchOne(messageStatement, arguments: [id]) else { continue }
                messages[id] = try ClaimedMessage(
                    mailFrom: m["mail_from"], smtpID: m["smtp_id"],
                    content: [UInt8]((m["content"] as Data?) ?? Data()),
                    categoriesJSON: m["categories"], customArgsJSON: m["custom_args"], smtpUTF8: m["smtputf8"],
                    requireTLS: m["require_tls"])
            }
            return try ClaimAssembly.deliveries(claimed, messages: messages)
        }
    }

    public func renewLeases(ids: [Int64], now: Date, lease: TimeInterval) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        let owner = leaseOwner
        let until = now.timeIntervalSince1970 + lease
        return try await write([]) { db in
            let statement = try db.cachedStatement(
                sql: "UPDATE deliveries SET lease_until = ? WHERE id = ? AND lease_owner = ? AND state = 'queued' AND lease_until > 0")
            var held = 0
            for id in ids {
                try statement.execute(arguments: [until, id, owner])
                held += db.changesCount
            }
            return held
        }
    }

    /// Only for a database this process serves alone (see `beginServing`).
    func releaseAllLeases() async throws -> Int {
        try await write([]) { db in
            try db.execute(sql: "UPDATE deliveries SET lease_until = 0 WHERE state = 'queued' AND lease_until > 0")
            return db.changesCount
        }
    }

    public func resolve(_ updates: [DeliveryUpdate]) async throws {
        try await resolveWrites.submit(updates)
    }

    /// One transaction for the results of several sessions.
    static func commitResolutions(_ batches: [[DeliveryUpdate]], pool: DatabasePool, owner: String) async -> [Result<Void, any Error>] {
        let now = Date().timeIntervalSince1970
        do {
            try await pool.write { db in
                let held = "AND lease_owner = ? AND state = 'queued'"
                let final = try db.cachedStatement(
                    sql: "UPDATE deliveries SET state = ?, lease_until = 0, last_result = ?, updated_at = ? WHERE id = ? \(held)")
                let later = try db.cachedStatement(
                    sql: "UPDATE deliveries SET next_attempt_at = ?, lease_until = 0, last_result = ?, updated_at = ? WHERE id = ? \(held)")
                var events: [EventRecord] = []
                for u in batches.joined() {
                    switch u.resolution {
                    case .delivered: try final.execute(arguments: ["delivered", u.result, now, u.deliveryID, owner])
                    case .bounced: try final.execute(arguments: ["bounced", u.result, now, u.deliveryID, owner])
                    case .blocked: try final.execute(arguments: ["blocked", u.result, now, u.deliveryID, owner])
                    case .deferred(let until):
                        try later.execute(arguments: [until.timeIntervalSince1970, u.result, now, u.deliveryID, owner])
                    }
                    // The lease was lost: another process owns this delivery and its outcome.
                    guard db.changesCount > 0 else { continue }
                    events.append(u.event)
                    if let listing = u.listing { try upsert(listing, db: db) }
                }
                try insert(events, db: db, now: now)
                try SQLiteCache.record(db, [])
            }
            return batches.map { _ in .success(()) }
        } catch {
            return batches.map { _ in .failure(error) }
        }
    }

    public func events(userID: Int64?, limit: Int) async throws -> [EventRecord] {
        try await pool.read { db in
            var sql = "SELECT * FROM events"
            var args: StatementArguments = []
            if let userID {
                sql += " WHERE user_id = ?"
                args += [userID]
            }
            sql += " ORDER BY id LIMIT ?"
            args += [limit]
            return try Row.fetchAll(db, sql: sql, arguments: args).map {
                EventRecord(
                    userID: $0["user_id"], sgEventID: $0["sg_event_id"], event: $0["event"], email: $0["email"], payload: $0["payload"])
            }
        }
    }

    public func nextDueAfter(_ now: Date) async throws -> Date? {
        try await pool.read { db in
            try Double.fetchOne(
                db.cachedStatement(
                    sql:
                        "SELECT next_attempt_at FROM deliveries WHERE state = 'queued' AND next_attempt_at > ? ORDER BY next_attempt_at LIMIT 1"
                ),
                arguments: [now.timeIntervalSince1970]
            ).map { Date(timeIntervalSince1970: $0) }
        }
    }

    public func queueCounts() async throws -> [String: Int] {
        try await pool.read { db in
            var counts: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM deliveries GROUP BY state") {
                counts[row["state"]] = row["n"]
            }
            return counts
        }
    }

    static func insert(_ events: [EventRecord], db: Database, now: Double) throws {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO events (user_id, sg_event_id, event, email, payload, created_at) VALUES (?, ?, ?, ?, ?, ?)
                """)
        for e in events {
            try statement.execute(arguments: [e.userID, e.sgEventID, e.event, e.email, e.payload, now])
        }
        let counter = try db.cachedStatement(
            sql: """
                INSERT INTO stats_daily (user_id, day, metric, count) VALUES (?, ?, ?, ?)
                ON CONFLICT (user_id, day, metric) DO UPDATE SET count = count + excluded.count
                """)
        for c in StatCount.of(events) { try counter.execute(arguments: [c.userID, c.day, c.metric, c.count]) }
    }

    public func statCounts(userID: Int64, fromDay: Int, toDay: Int) async throws -> [StatCount] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT day, metric, count FROM stats_daily WHERE user_id = ? AND day BETWEEN ? AND ? ORDER BY day, metric",
                arguments: [userID, fromDay, toDay]
            ).map { StatCount(userID: userID, day: $0["day"], metric: $0["metric"], count: $0["count"]) }
        }
    }
}
