import Foundation
import GRDB
import SealpostCore
import SealpostStorage

/// Authenticated (DKIM) domains on SQLite.
extension SQLiteStore {
    public func createAuthenticatedDomain(_ d: AuthenticatedDomain) async throws -> AuthenticatedDomain {
        do {
            return try await write([]) { db in
                if d.isDefault { try Self.clearDefault(db, ownerID: d.ownerID) }
                try db.execute(
                    sql: """
                        INSERT INTO authenticated_domains
                            (owner_id, domain, subdomain, selector, private_key, public_key, is_default, custom_spf, valid, created_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        """,
                    arguments: [
                        d.ownerID, d.domain, d.subdomain, d.selector, Data(d.privateKey), d.publicKey, d.isDefault, d.customSPF, d.valid,
                        Date().timeIntervalSince1970,
                    ])
                var created = d
                created.id = db.lastInsertedRowID
                return created
            }
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            throw StoreError.nameTaken(d.subdomain.isEmpty ? d.domain : "\(d.subdomain).\(d.domain)")
        }
    }

    public func authenticatedDomains(ownerID: Int64?) async throws -> [AuthenticatedDomain] {
        try await pool.read { db in
            let rows =
                if let ownerID {
                    try Row.fetchAll(db, sql: "SELECT * FROM authenticated_domains WHERE owner_id = ? ORDER BY id", arguments: [ownerID])
                } else {
                    try Row.fetchAll(db, sql: "SELECT * FROM authenticated_domains ORDER BY id")
                }
            return rows.map(Self.authenticatedDomain)
        }
    }

    public func authenticatedDomain(id: Int64, ownerID: Int64?) async throws -> AuthenticatedDomain? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM authenticated_domains WHERE id = ?", arguments: [id]).map(Self.authenticatedDomain)
                .flatMap { ownerID == nil || $0.ownerID == ownerID ? $0 : nil }
        }
    }

    public func updateAuthenticatedDomain(_ d: AuthenticatedDomain) async throws -> Bool {
        try await write([]) { db in
            if d.isDefault { try Self.clearDefault(db, ownerID: d.ownerID) }
            try db.execute(
                sql: """
                    UPDATE authenticated_domains SET selector = ?, private_key = ?, public_key = ?, is_default = ?, custom_spf = ?, valid = ?
                    WHERE id = ? AND owner_id = ?
                    """,
                arguments: [d.selector, Data(d.privateKey), d.publicKey, d.isDefault, d.customSPF, d.valid, d.id, d.ownerID])
            return db.changesCount > 0
        }
    }

    public func deleteAuthenticatedDomain(id: Int64, ownerID: Int64?) async throws -> Bool {
        try await write([]) { db in
            if let ownerID {
                try db.execute(sql: "DELETE FROM authenticated_domains WHERE id = ? AND owner_id = ?", arguments: [id, ownerID])
            } else {
                try db.execute(sql: "DELETE FROM authenticated_domains WHERE id = ?", arguments: [id])
            }
            return db.changesCount > 0
        }
    }

    private static func clearDefault(_ db: Database, ownerID: Int64) throws {
        try db.execute(sql: "UPDATE authenticated_domains SET is_default = 0 WHERE owner_id = ?", arguments: [ownerID])
    }

    private static func authenticatedDomain(_ row: Row) -> AuthenticatedDomain {
        let key: Data = row["private_key"]
        return AuthenticatedDomain(
            id: row["id"], ownerID: row["owner_id"], domain: row["domain"], subdomain: row["subdomain"], selector: row["selector"],
            privateKey: Array(key), publicKey: row["public_key"], isDefault: row["is_default"], customSPF: row["custom_spf"],
            valid: row["valid"])
    }
}
