import Foundation
import GRDB
import SealpostCore
import SealpostStorage

/// Per-recipient-domain Enforced TLS entries: cached with the account setting (scope
/// `settings:<user>`), so the delivery engine reads them from memory until one changes.
extension SQLiteStore {
    public func domainTLSEntries(userID: Int64) async throws -> [DomainTLSEntry] {
        try await cache.entries.value(\.domainEntries, userID, epoch: cache.validate()) {
            try await pool.read { db in try Self.fetchDomainEntries(db, userID: userID) }
        }
    }

    public func putDomainTLSEntry(userID: Int64, _ entry: DomainTLSEntry, actor: AuditActor) async throws -> DomainTLSEntry? {
        let now = Date().timeIntervalSince1970
        return try await write([.settings(userID)]) { db in
            guard try Int64.fetchOne(db, sql: "SELECT user_id FROM enforced_tls WHERE user_id = ?", arguments: [userID]) != nil else {
                throw StoreError.notFound("user \(userID)")
            }
            let old = try Self.fetchDomainEntries(db, userID: userID, domain: entry.domain).first
            let s = entry.settings
            try db.execute(
                sql: """
                    INSERT INTO domain_tls (user_id, domain, require_tls, require_valid_cert, version) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (user_id, domain) DO UPDATE SET require_tls = excluded.require_tls,
                        require_valid_cert = excluded.require_valid_cert, version = excluded.version
                    """, arguments: [userID, entry.domain, s.requireTLS, s.requireValidCert, s.version.rawValue])
            try Self.auditDomain(db, userID: userID, domain: entry.domain, actor: actor, old: old?.settings, new: s, at: now)
            return old
        }
    }

    public func deleteDomainTLSEntry(userID: Int64, domain: String, actor: AuditActor) async throws -> DomainTLSEntry? {
        let now = Date().timeIntervalSince1970
        return try await write([.settings(userID)]) { db in
            guard let old = try Self.fetchDomainEntries(db, userID: userID, domain: domain).first else { return nil }
            try db.execute(sql: "DELETE FROM domain_tls WHERE user_id = ? AND domain = ?", arguments: [userID, domain])
            try Self.auditDomain(db, userID: userID, domain: domain, actor: actor, old: old.settings, new: nil, at: now)
            return old
        }
    }

    public func domainAuditEntries(userID: Int64?) async throws -> [DomainAuditEntry] {
        try await pool.read { db in
            var sql = "SELECT a.*, u.name AS user_name FROM domain_tls_audit a JOIN users u ON u.id = a.user_id"
            var args: StatementArguments = []
            if let userID {
                sql += " WHERE a.user_id = ?"
                args += [userID]
            }
            return try Row.fetchAll(db, sql: sql + " ORDER BY a.id", arguments: args).map { row in
                DomainAuditEntry(
                    id: row["id"], userID: row["user_id"], userName: row["user_name"], domain: row["domain"],
                    actor: AuditActor(keyID: row["key_id"], onBehalfOf: row["on_behalf_of"], via: row["via"]),
                    old: try RowCoding.settings(json: row["old_value"]), new: try RowCoding.settings(json: row["new_value"]),
                    at: Date(timeIntervalSince1970: row["at"]))
            }
        }
    }

    private static func fetchDomainEntries(_ db: Database, userID: Int64, domain: String? = nil) throws -> [DomainTLSEntry] {
        var sql = "SELECT * FROM domain_tls WHERE user_id = ?"
        var args: StatementArguments = [userID]
        if let domain {
            sql += " AND domain = ?"
            args += [domain]
        }
        return try Row.fetchAll(db, sql: sql + " ORDER BY domain", arguments: args).map { row in
            DomainTLSEntry(
                domain: row["domain"],
                settings: try RowCoding.settings(
                    requireTLS: row["require_tls"], requireValidCert: row["require_valid_cert"], version: row["version"]))
        }
    }

    private static func auditDomain(
        _ db: Database, userID: Int64, domain: String, actor: AuditActor, old: EnforcedTLSSettings?, new: EnforcedTLSSettings?, at: Double
    ) throws {
        try db.execute(
            sql: """
                INSERT INTO domain_tls_audit (user_id, domain, key_id, on_behalf_of, via, old_value, new_value, at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [userID, domain, actor.keyID, actor.onBehalfOf, actor.via, old?.json, new?.json, at])
    }
}
