import Foundation
import Logging
import PostgresNIO
import SealpostCore
import SealpostStorage

/// The suppression lists on PostgreSQL: one table, `list` naming the list.
extension PostgresStore {
    public func suppressions(userID: Int64, list: SuppressionList, query q: BlockQuery) async throws -> [BlockRecord] {
        // SendGrid: prefix match, with % as a wildcard; `_` is literal.
        let pattern = q.emailPrefix.map(RowCoding.likePrefix)
        return try await withConnection { [self] c in
            var records: [BlockRecord] = []
            for try await (uid, email, reason, status, created) in try await c.query(
                """
                SELECT user_id, email, reason, status, created FROM suppressions
                WHERE user_id = \(userID) AND list = \(list.rawValue)
                  AND (\(q.startTime)::bigint IS NULL OR created >= \(q.startTime))
                  AND (\(q.endTime)::bigint IS NULL OR created <= \(q.endTime))
                  AND (\(pattern)::text IS NULL OR email LIKE \(pattern) ESCAPE '\\')
                ORDER BY created DESC, email LIMIT \(q.limit) OFFSET \(q.offset)
                """, logger: logger
            ).decode((Int64, String, String, String, Int).self) {
                records.append(BlockRecord(userID: uid, email: email, reason: reason, status: status, created: created))
            }
            return records
        }
    }

    public func deleteSuppressions(userID: Int64, list: SuppressionList, emails: [String]?) async throws -> Int {
        let lowered = emails.map { Array(Set($0.map { $0.lowercased() })) }
        return try await withConnection { [self] c in
            if let lowered {
                return try await Self.count(
                    c,
                    """
                    DELETE FROM suppressions WHERE user_id = \(userID) AND list = \(list.rawValue) AND email = ANY(\(lowered))
                    RETURNING email
                    """, logger: logger)
            }
            return try await Self.count(
                c, "DELETE FROM suppressions WHERE user_id = \(userID) AND list = \(list.rawValue) RETURNING email", logger: logger)
        }
    }

    public func addSuppressions(userID: Int64, list: SuppressionList, _ records: [BlockRecord]) async throws {
        guard !records.isEmpty else { return }
        _ = try await withConnection { [logger] c in
            try await c.query(
                """
                INSERT INTO suppressions (user_id, list, email, reason, status, created)
                SELECT \(userID), \(list.rawValue), e, r, s, c
                FROM unnest(\(records.map { $0.email.lowercased() })::text[], \(records.map(\.reason))::text[],
                            \(records.map(\.status))::text[], \(records.map { Int64($0.created) })::bigint[]) AS t(e, r, s, c)
                ON CONFLICT (user_id, list, email) DO NOTHING
                """, logger: logger)
        }
    }

    public func suppressingLists(userID: Int64, emails: [String]) async throws -> [String: Set<SuppressionList>] {
        guard !emails.isEmpty else { return [:] }
        let lowered = Array(Set(emails.map { $0.lowercased() }))
        return try await withConnection { [logger] c in
            var found: [String: Set<SuppressionList>] = [:]
            for try await (email, list) in try await c.query(
                "SELECT email, list FROM suppressions WHERE user_id = \(userID) AND list <> 'blocks' AND email = ANY(\(lowered))",
                logger: logger
            ).decode((String, String).self) {
                if let list = SuppressionList(rawValue: list) { found[email, default: []].insert(list) }
            }
            return found
        }
    }

    /// A delivery outcome's list entry: the newest reason wins (the last bounce's answer).
    static func upsert(_ listing: SuppressionListing, _ tx: PostgresConnection, logger: Logger) async throws {
        let r = listing.record
        try await tx.query(
            """
            INSERT INTO suppressions (user_id, list, email, reason, status, created)
            VALUES (\(r.userID), \(listing.list.rawValue), \(r.email.lowercased()), \(r.reason), \(r.status), \(r.created))
            ON CONFLICT (user_id, list, email) DO UPDATE SET reason = excluded.reason, status = excluded.status, created = excluded.created
            """, logger: logger)
    }
}
