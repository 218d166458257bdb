import Foundation
import Logging
import PostgresNIO
import SealpostCore
import SealpostStorage

/// Authenticated (DKIM) domains on PostgreSQL.
extension PostgresStore {
    static let domainColumns = "id, owner_id, domain, subdomain, selector, private_key, public_key, is_default, custom_spf, valid"
    typealias DomainRow = (Int64, Int64, String, String, String, ByteBuffer, String, Bool, Bool, Bool)

    public func createAuthenticatedDomain(_ d: AuthenticatedDomain) async throws -> AuthenticatedDomain {
        let now = Date().timeIntervalSince1970
        do {
            return try await transaction { [logger] tx in
                if d.isDefault {
                    try await tx.query("UPDATE authenticated_domains SET is_default = false WHERE owner_id = \(d.ownerID)", logger: logger)
                }
                var created = d
                for try await id in try await tx.query(
                    """
                    INSERT INTO authenticated_domains
                        (owner_id, domain, subdomain, selector, private_key, public_key, is_default, custom_spf, valid, created_at)
                    VALUES (\(d.ownerID), \(d.domain), \(d.subdomain), \(d.selector), \(ByteBuffer(bytes: d.privateKey)), \(d.publicKey),
                            \(d.isDefault), \(d.customSPF), \(d.valid), \(now))
                    RETURNING id
                    """, logger: logger
                ).decode(Int64.self) { created.id = id }
                return created
            }
        } catch  where Self.isUniqueViolation(error) {
            throw StoreError.nameTaken(d.subdomain.isEmpty ? d.domain : "\(d.subdomain).\(d.domain)")
        }
    }

    public func authenticatedDomains(ownerID: Int64?) async throws -> [AuthenticatedDomain] {
        try await withConnection { [logger] c in
            var out: [AuthenticatedDomain] = []
            for try await row in try await c.query(
                """
                SELECT \(unescaped: Self.domainColumns) FROM authenticated_domains
                WHERE (\(ownerID)::bigint IS NULL OR owner_id = \(ownerID)) ORDER BY id
                """, logger: logger
            ).decode(DomainRow.self) { out.append(Self.authenticatedDomain(row)) }
            return out
        }
    }

    public func authenticatedDomain(id: Int64, ownerID: Int64?) async throws -> AuthenticatedDomain? {
        try await withConnection { [logger] c in
            for try await row in try await c.query(
                """
                SELECT \(unescaped: Self.domainColumns) FROM authenticated_domains
                WHERE id = \(id) AND (\(ownerID)::bigint IS NULL OR owner_id = \(ownerID))
                """, logger: logger
            ).decode(DomainRow.self) { return Self.authenticatedDomain(row) }
            return nil
        }
    }

    public func updateAuthenticatedDomain(_ d: AuthenticatedDomain) async throws -> Bool {
        try await transaction { [logger] tx in
            if d.isDefault {
                try await tx.query("UPDATE authenticated_domains SET is_default = false WHERE owner_id = \(d.ownerID)", logger: logger)
            }
            return try await Self.count(
                tx,
                """
                UPDATE authenticated_domains SET selector = \(d.selector), private_key = \(ByteBuffer(bytes: d.privateKey)),
                    public_key = \(d.publicKey), is_default = \(d.isDefault), custom_spf = \(d.customSPF), valid = \(d.valid)
                WHERE id = \(d.id) AND owner_id = \(d.ownerID) RETURNING id
                """, logger: logger) > 0
        }
    }

    public func deleteAuthenticatedDomain(id: Int64, ownerID: Int64?) async throws -> Bool {
        try await withConnection { [logger] c in
            try await Self.count(
                c,
                """
                DELETE FROM authenticated_domains WHERE id = \(id) AND (\(ownerID)::bigint IS NULL OR owner_id = \(ownerID)) RETURNING id
                """, logger: logger) > 0
        }
    }

    static func authenticatedDomain(_ r: DomainRow) -> AuthenticatedDomain {
        AuthenticatedDomain(
            id: r.0, ownerID: r.1, domain: r.2, subdomain: r.3, selector: r.4, privateKey: Array(r.5.readableBytesView), publicKey: r.6,
            isDefault: r.7, customSPF: r.8, valid: r.9)
    }
}
