import Foundation
import GRDB
import SealpostCore
import SealpostStorage

/// The suppression lists on SQLite: one table, `list` naming the list.
extension SQLiteStore {
    public func suppressions(userID: Int64, list: SuppressionList, query: BlockQuery) async throws -> [BlockRecord] {
        try await pool.read { db in
            var sql = "SELECT * FROM suppressions WHERE user_id = ? AND list = ?"
            var args: StatementArguments = [userID, list.rawValue]
            if let start = query.startTime {
                sql += " AND created >= ?"
                args += [start]
            }
            if let end = query.endTime {
                sql += " AND created <= ?"
                args += [end]
            }
            if let prefix = query.emailPrefix {
                // SendGrid: prefix match, with % as a wildcard.
                sql += " AND email LIKE ? ESCAPE '\\'"
                args += [RowCoding.likePrefix(prefix)]
            }
            sql += " ORDER BY created DESC, email LIMIT ? OFFSET ?"
            args += [query.limit, query.offset]
            return try Row.fetchAll(db, sql: sql, arguments: args).map {
                BlockRecord(userID: $0["user_id"], email: $0["email"], reason: $0["reason"], status: $0["status"], created: $0["created"])
            }
        }
    }

    public func deleteSuppressions(userID: Int64, list: SuppressionList, emails: [String]?) async throws -> Int {
        try await write([]) { db in
            guard let emails else {
                try db.execute(sql: "DELETE FROM suppressions WHERE user_id = ? AND list = ?", arguments: [userID, list.rawValue])
                return db.changesCount
            }
            var removed = 0
            let statement = try db.cachedStatement(sql: "DELETE FROM suppressions WHERE user_id = ? AND list = ? AND email = ?")
            for email in Set(emails.map { $0.lowercased() }) {
                try statement.execute(arguments: [userID, list.rawValue, email])
                removed += db.changesCount
            }
            return removed
        }
    }

    public func addSuppressions(userID: Int64, list: SuppressionList, _ records: [BlockRecord]) async throws {
        try await write([]) { db in
            let statement = try db.cachedStatement(
                sql: """
                    INSERT INTO suppressions (user_id, list, email, reason, status, created) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (user_id, list, email) DO NOTHING
                    """)
            for r in records {
                try statement.execute(arguments: [userID, list.rawValue, r.email.lowercased(), r.reason, r.status, r.created])
            }
        }
    }

    public func suppressingLists(userID: Int64, emails: [String]) async throws -> [String: Set<SuppressionList>] {
        guard !emails.isEmpty else { return [:] }
        let lowered = Array(Set(emails.map { $0.lowercased() }))
        return try await pool.read { db in
            var found: [String: Set<SuppressionList>] = [:]
            // Chunks: SQLite binds at most 32,766 parameters per statement.
            for start in stride(from: 0, to: lowered.count, by: 500) {
                let chunk = Array(lowered[start..<min(start + 500, lowered.count)])
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                let rows = try Row.fetchAll(
                    db,
                    sql: "SELECT email, list FROM suppressions WHERE user_id = ? AND list != 'blocks' AND email IN (\(marks))",
                    arguments: StatementArguments([userID] + chunk as [any DatabaseValueConvertible]))
                for row in rows {
                    if let list = SuppressionList(rawValue: row["list"]) { found[row["email"], default: []].insert(list) }
                }
            }
            return found
        }
    }

    /// A delivery outcome's list entry: the newest reason wins (the last bounce's answer).
    static func upsert(_ listing: SuppressionListing, db: Database) throws {
        let r = listing.record
        try db.cachedStatement(
            sql: """
                INSERT INTO suppressions (user_id, list, email, reason, status, created) VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (user_id, list, email) DO UPDATE SET reason = excluded.reason, status = excluded.status, created = excluded.created
                """
        ).execute(arguments: [r.userID, listing.list.rawValue, r.email.lowercased(), r.reason, r.status, r.created])
    }
}
