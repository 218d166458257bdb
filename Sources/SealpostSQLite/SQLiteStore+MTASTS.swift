import Foundation
import GRDB
import SealpostCore
import SealpostStorage

/// The MTA-STS policy cache on SQLite: one row per recipient domain, replaced on refetch.
extension SQLiteStore {
    public func cachedMTASTSPolicy(domain: String) async throws -> CachedMTASTSPolicy? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM mta_sts_policies WHERE domain = ?", arguments: [domain]).map { row in
                CachedMTASTSPolicy(
                    domain: row["domain"], id: row["policy_id"], text: row["policy"],
                    fetchedAt: Date(timeIntervalSince1970: row["fetched_at"]), expiresAt: Date(timeIntervalSince1970: row["expires_at"]))
            }
        }
    }

    public func saveMTASTSPolicy(_ p: CachedMTASTSPolicy) async throws {
        try await pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO mta_sts_policies (domain, policy_id, policy, fetched_at, expires_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (domain) DO UPDATE SET policy_id = excluded.policy_id, policy = excluded.policy,
                        fetched_at = excluded.fetched_at, expires_at = excluded.expires_at
                    """,
                arguments: [p.domain, p.id, p.text, p.fetchedAt.timeIntervalSince1970, p.expiresAt.timeIntervalSince1970])
        }
    }
}
