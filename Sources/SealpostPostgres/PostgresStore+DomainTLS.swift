import Foundation
import Logging
import PostgresNIO
import SealpostCore
import SealpostStorage

/// Per-recipient-domain Enforced TLS entries on PostgreSQL. A change first locks the user's
/// `enforced_tls` row, so concurrent changes of one user's entries from several nodes take
/// turns and every audit entry's old value is the entry as the previous change left it.
extension PostgresStore {
    public func domainTLSEntries(userID: Int64) async throws -> [DomainTLSEntry] {
        try await cache.value(\.domainEntries, userID, epoch: validate()) {
            try await withConnection { [self] c in try await Self.fetchDomainEntries(c, userID: userID, domain: nil, logger: logger) }
        }
    }

    public func putDomainTLSEntry(userID: Int64, _ entry: DomainTLSEntry, actor: AuditActor) async throws -> DomainTLSEntry? {
        let now = Date().timeIntervalSince1970
        return try await transaction { [logger] tx in
            try await Self.lockUser(tx, userID: userID, logger: logger)
            let old = try await Self.fetchDomainEntries(tx, userID: userID, domain: entry.domain, logger: logger).first
            let s = entry.settings
            try await tx.query(
                """
                INSERT INTO domain_tls (user_id, domain, require_tls, require_valid_cert, version)
                VALUES (\(userID), \(entry.domain), \(s.requireTLS), \(s.requireValidCert), \(s.version.rawValue))
                ON CONFLICT (user_id, domain) DO UPDATE SET require_tls = excluded.require_tls,
                    require_valid_cert = excluded.require_valid_cert, version = excluded.version
                """, logger: logger)
            try await Self.auditDomain(
                tx, userID: userID, domain: entry.domain, actor: actor, old: old?.settings, new: s, at: now, logger: logger)
            try await Self.record(tx, [.settings(userID)], logger: logger)
            return old
        }
    }

    public func deleteDomainTLSEntry(userID: Int64, domain: String, actor: AuditActor) async throws -> DomainTLSEntry? {
        let now = Date().timeIntervalSince1970
        return try await transaction { [logger] tx in
            try await Self.lockUser(tx, userID: userID, logger: logger)
            guard let old = try await Self.fetchDomainEntries(tx, userID: userID, domain: domain, logger: logger).first else { return nil }
            try await tx.query("DELETE FROM domain_tls WHERE user_id = \(userID) AND domain = \(domain)", logger: logger)
            try await Self.auditDomain(
                tx, userID: userID, domain: domain, actor: actor, old: old.settings, new: nil, at: now, logger: logger)
            try await Self.record(tx, [.settings(userID)], logger: logger)
            return old
        }
    }

    public func domainAuditEntries(userID: Int64?) async throws -> [DomainAuditEntry] {
        let base = """
            SELECT a.id, a.user_id, u.name, a.domain, a.key_id, a.on_behalf_of, a.via, a.old_value, a.new_value, a.at
            FROM domain_tls_audit a JOIN users u ON u.id = a.user_id
            """
        let query: PostgresQuery =
            if let userID {
                "\(unescaped: base) WHERE a.user_id = \(userID) ORDER BY a.id"
            } else {
                "\(unescaped: base) ORDER BY a.id"
            }
        return try await withConnection { [logger] c in
            var entries: [DomainAuditEntry] = []
            for try await (id, uid, name, domain, keyID, onBehalfOf, via, old, new, at) in try await c.query(query, logger: logger)
                .decode((Int64, Int64, String, String, String?, String?, String, String?, String?, Double).self)
            {
                entries.append(
                    DomainAuditEntry(
                        id: id, userID: uid, userName: name, domain: domain,
                        actor: AuditActor(keyID: keyID, onBehalfOf: onBehalfOf, via: via),
                        old: try RowCoding.settings(json: old), new: try RowCoding.settings(json: new), at: Date(timeIntervalSince1970: at))
                )
            }
            return entries
        }
    }

    private static func lockUser(_ tx: PostgresConnection, userID: Int64, logger: Logger) async throws {
        var found = false
        for try await _ in try await tx.query("SELECT user_id FROM enforced_tls WHERE user_id = \(userID) FOR UPDATE", logger: logger)
            .decode(Int64.self)
        { found = true }
        guard found else { throw StoreError.notFound("user \(userID)") }
    }

    private static func fetchDomainEntries(
        _ c: PostgresConnection, userID: Int64, domain: String?, logger: Logger
    ) async throws -> [DomainTLSEntry] {
        let query: PostgresQuery =
            if let domain {
                """
                SELECT domain, require_tls, require_valid_cert, version FROM domain_tls
                WHERE user_id = \(userID) AND domain = \(domain)
                """
            } else {
                "SELECT domain, require_tls, require_valid_cert, version FROM domain_tls WHERE user_id = \(userID) ORDER BY domain"
            }
        var entries: [DomainTLSEntry] = []
        for try await (domain, requireTLS, requireValidCert, version) in try await c.query(query, logger: logger)
            .decode((String, Bool, Bool, String).self)
        {
            entries.append(
                DomainTLSEntry(
                    domain: domain,
                    settings: try RowCoding.settings(requireTLS: requireTLS, requireValidCert: requireValidCert, version: version)))
        }
        return entries
    }

    private static func auditDomain(
        _ tx: PostgresConnection, userID: Int64, domain: String, actor: AuditActor, old: EnforcedTLSSettings?,
        new: EnforcedTLSSettings?, at: Double, logger: Logger
    ) async throws {
        try await tx.query(
            """
            INSERT INTO domain_tls_audit (user_id, domain, key_id, on_behalf_of, via, old_value, new_value, at)
            VALUES (\(userID), \(domain), \(actor.keyID), \(actor.onBehalfOf), \(actor.via), \(old?.json), \(new?.json), \(at))
            """, logger: logger)
    }
}
