import Foundation
import PostgresNIO
import SealpostCore
import SealpostStorage

/// The MTA-STS policy cache on PostgreSQL: every node reads the policy another one fetched.
extension PostgresStore {
    public func cachedMTASTSPolicy(domain: String) async throws -> CachedMTASTSPolicy? {
        try await withConnection { [logger] c in
            var found: CachedMTASTSPolicy?
            for try await (d, id, text, fetched, expires) in try await c.query(
                "SELECT domain, policy_id, policy, fetched_at, expires_at FROM mta_sts_policies WHERE domain = \(domain)", logger: logger
            ).decode((String, String, String, Double, Double).self) {
                found = CachedMTASTSPolicy(
                    domain: d, id: id, text: text, fetchedAt: Date(timeIntervalSince1970: fetched),
                    expiresAt: Date(timeIntervalSince1970: expires))
            }
            return found
        }
    }

    public func saveMTASTSPolicy(_ p: CachedMTASTSPolicy) async throws {
        let fetched = p.fetchedAt.timeIntervalSince1970
        let expires = p.expiresAt.timeIntervalSince1970
        try await withConnection { [logger] c in
            try await c.query(
                """
                INSERT INTO mta_sts_policies (domain, policy_id, policy, fetched_at, expires_at)
                VALUES (\(p.domain), \(p.id), \(p.text), \(fetched), \(expires))
                ON CONFLICT (domain) DO UPDATE SET policy_id = excluded.policy_id, policy = excluded.policy,
                    fetched_at = excluded.fetched_at, expires_at = excluded.expires_at
                """, logger: logger)
        }
    }
}
