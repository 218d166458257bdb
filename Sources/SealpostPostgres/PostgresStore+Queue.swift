import Foundation
import Logging
import PostgresNIO
import SealpostCore
import SealpostStorage

extension PostgresStore {
    public func enqueue(_ messages: [NewMessage], events: [EventRecord], lifetime: TimeInterval) async throws {
        let now = Date().timeIntervalSince1970
        try await transaction { [self] tx in
            for m in messages {
                try await tx.query(
                    """
                    INSERT INTO messages (id, x_message_id, user_id, mail_from, smtp_id, content, categories, custom_args, created_at, smtputf8, require_tls)
                    VALUES (\(m.id), \(m.xMessageID), \(m.userID), \(m.mailFrom), \(m.smtpID), \(Data(m.content)),
                            \(try RowCoding.json(m.categories)), \(try RowCoding.json(m.customArgs)), \(now), \(m.smtpUTF8), \(m.requireTLS))
                    """, logger: logger)
                let due = max(now, m.notBefore.timeIntervalSince1970)
                let domains = m.recipients.map(RowCoding.domain(ofRecipient:))
                // One statement for all recipients of a message (up to 1,000).
                try await tx.query(
                    """
                    INSERT INTO deliveries (message_id, user_id, recipient, domain, state, next_attempt_at, expires_at, updated_at)
                    SELECT \(m.id), \(m.userID), r, d, 'queued', \(due), \(due + lifetime), \(now)
                    FROM unnest(\(m.recipients)::text[], \(domains)::text[]) AS t(r, d)
                    """, logger: logger)
            }
            try await Self.insert(events, tx, now: now, logger: logger)
        }
    }

    public func claimDeliveries(now: Date, limit: Int, lease: TimeInterval) async throws -> [QueuedDelivery] {
        let t = now.timeIntervalSince1970
        return try await withConnection { [self] c in
            // SKIP LOCKED: nodes claiming at the same moment pass over each other's rows
            // instead of waiting for them, so each due delivery goes to exactly one node.
            let rows = try await c.query(
                """
                WITH due AS (
                    SELECT id FROM deliveries
                    WHERE state = 'queued' AND next_attempt_at <= \(t) AND lease_until <= \(t)
                    ORDER BY next_attempt_at, id LIMIT \(limit)
                    FOR UPDATE SKIP LOCKED
                )
                UPDATE deliveries d SET lease_until = \(t + lease), lease_owner = \(leaseOwner), attempts = d.attempts + 1
                FROM due WHERE d.id = due.id
                RETURNING d.id, d.message_id, d.user_id, d.recipient, d.domain, d.attempts, d.expires_at
                """, logger: logger)
            var claimed: [ClaimedRow] = []
            for try await (id, messageID, userID, recipient, domain, attempts, expires)
                in rows
                .decode((Int64, String, Int64, String, String, Int, Double).self)
            {
                claimed.append(
                    ClaimedRow(
                        id: id, messageID: messageID, userID: userID, recipient: recipient, domain: domain,
                        attempts: attempts, expiresAt: Date(timeIntervalSince1970: expires)))
            }
            var messages: [String: ClaimedMessage] = [:]
            let ids = ClaimAssembly.messageIDs(claimed)
            if !ids.isEmpty {
                let rows = try await c.query(
                    "SELECT id, mail_from, smtp_id, content, categories, custom_args, smtputf8, require_tls FROM messages WHERE id = ANY(\(ids))",
                    logger: logger)
                for try await (id, from, smtpID, content, categories, args, smtpUTF8, requireTLS) in rows.decode(
                    (String, String, String, Data, String, String, Bool, Bool).self)
                {
                    messages[id] = try ClaimedMessage(
                        mailFrom: from, smtpID: smtpID, content: [UInt8](content),
                        categoriesJSON: categories, customArgsJSON: args, smtpUTF8: smtpUTF8, requireTLS: requireTLS)
                }
            }
            return try ClaimAssembly.deliveries(claimed, messages: messages)
        }
    }

    public func renewLeases(ids: [Int64], now: Date, lease: TimeInterval) async throws -> Int {
        guard !ids.isEmpty else { return 0 }
        return try await withConnection { [self] c in
            try await Self.count(
                c,
                """
                UPDATE deliveries SET lease_until = \(now.timeIntervalSince1970 + lease)
                WHERE id = ANY(\(ids)) AND lease_owner = \(leaseOwner) AND state = 'queued' AND lease_until > 0 RETURNING id
                """, logger: logger)
        }
    }

    public func resolve(_ updates: [DeliveryUpdate]) async throws {
        try await resolveWrites.submit(updates)
    }

    /// One transaction for the results of several sessions (group commit, as on SQLite).
    static func commitResolutions(
        _ batches: [[DeliveryUpdate]], client: PostgresClient, owner: String, logger: Logger
    ) async
        -> [Result<Void, any Error>]
    {
        let now = Date().timeIntervalSince1970
        do {
            try await transaction(client: client, logger: logger) { tx in
                var events: [EventRecord] = []
                for u in batches.joined() {
                    let query: PostgresQuery =
                        switch u.resolution {
                        case .delivered, .bounced, .blocked:
                            """
                            UPDATE deliveries SET state = \(u.resolution.state), lease_until = 0, last_result = \(u.result), updated_at = \(now)
                            WHERE id = \(u.deliveryID) AND lease_owner = \(owner) AND state = 'queued' RETURNING id
                            """
                        case .deferred(let until):
                            """
                            UPDATE deliveries SET next_attempt_at = \(until.timeIntervalSince1970), lease_until = 0, last_result = \(u.result),
                                updated_at = \(now)
                            WHERE id = \(u.deliveryID) AND lease_owner = \(owner) AND state = 'queued' RETURNING id
                            """
                        }
                    // The lease was lost: another node owns this delivery and its outcome.
                    guard try await count(tx, query, logger: logger) > 0 else { continue }
                    events.append(u.event)
                    if let listing = u.listing { try await upsert(listing, tx, logger: logger) }
                }
                try await insert(events, tx, now: now, logger: logger)
            }
            return batches.map { _ in .success(()) }
        } catch {
            return batches.map { _ in .failure(error) }
        }
    }

    public func events(userID: Int64?, limit: Int) async throws -> [EventRecord] {
        let query: PostgresQuery =
            if let userID {
                "SELECT user_id, sg_event_id, event, email, payload FROM events WHERE user_id = \(userID) ORDER BY id LIMIT \(limit)"
            } else {
                "SELECT user_id, sg_event_id, event, email, payload FROM events ORDER BY id LIMIT \(limit)"
            }
        return try await withConnection { [self] c in
            var events: [EventRecord] = []
            for try await (uid, sgEventID, event, email, payload) in try await c.query(query, logger: logger)
                .decode((Int64, String, String, String, String).self)
            {
                events.append(EventRecord(userID: uid, sgEventID: sgEventID, event: event, email: email, payload: payload))
            }
            return events
        }
    }

    public func nextDueAfter(_ now: Date) async throws -> Date? {
        let t = now.timeIntervalSince1970
        return try await withConnection { [self] c in
            for try await at in try await c.query(
                "SELECT next_attempt_at FROM deliveries WHERE state = 'queued' AND next_attempt_at > \(t) ORDER BY next_attempt_at LIMIT 1",
                logger: logger
            ).decode(Double.self) {
                return Date(timeIntervalSince1970: at)
            }
            return nil
        }
    }

    public func queueCounts() async throws -> [String: Int] {
        try await withConnection { [self] c in
            var counts: [String: Int] = [:]
            for try await (state, n) in try await c.query("SELECT state, COUNT(*) FROM deliveries GROUP BY state", logger: logger)
                .decode((String, Int).self)
            {
                counts[state] = n
            }
            return counts
        }
    }

    static func insert(_ events: [EventRecord], _ tx: PostgresConnection, now: Double, logger: Logger) async throws {
        guard !events.isEmpty else { return }
        try await tx.query(
            """
            INSERT INTO events (user_id, sg_event_id, event, email, payload, created_at)
            SELECT u, s, e, m, p, \(now)
            FROM unnest(\(events.map(\.userID))::bigint[], \(events.map(\.sgEventID))::text[], \(events.map(\.event))::text[],
                        \(events.map(\.email))::text[], \(events.map(\.payload))::text[]) WITH ORDINALITY AS t(u, s, e, m, p, n)
            ORDER BY n
            """, logger: logger)
        let c = StatCount.of(events)
        guard !c.isEmpty else { return }
        // Sorted by key (`StatCount.of`), so concurrent writers lock the rows in one order.
        try await tx.query(
            """
            INSERT INTO stats_daily (user_id, day, metric, count)
            SELECT * FROM unnest(\(c.map(\.userID))::bigint[], \(c.map { Int64($0.day) })::bigint[], \(c.map(\.metric))::text[],
                                 \(c.map { Int64($0.count) })::bigint[])
            ON CONFLICT (user_id, day, metric) DO UPDATE SET count = stats_daily.count + excluded.count
            """, logger: logger)
    }

    public func statCounts(userID: Int64, fromDay: Int, toDay: Int) async throws -> [StatCount] {
        try await withConnection { [logger] c in
            var out: [StatCount] = []
            for try await (day, metric, count) in try await c.query(
                """
                SELECT day, metric, count FROM stats_daily
                WHERE user_id = \(userID) AND day BETWEEN \(Int64(fromDay)) AND \(Int64(toDay)) ORDER BY day, metric
                """, logger: logger
            ).decode((Int64, String, Int64).self) {
                out.append(StatCount(userID: userID, day: Int(day), metric: metric, count: Int(count)))
            }
            return out
        }
    }
}

extension DeliveryUpdate.Resolution {
    /// The final `deliveries.state` of a resolution (`queued` for a deferral).
    var state: String {
        switch self {
        case .delivered: "delivered"
        case .bounced: "bounced"
        case .blocked: "blocked"
        case .deferred: "queued"
        }
    }
}
