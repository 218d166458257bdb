import Foundation
import GRDB
import SealpostCore
import SealpostStorage

/// The embedded default store: one SQLite file in WAL mode.
///
/// `synchronous = FULL` makes every committed transaction survive power loss, not only a
/// killed process, so a 200 answer always means the change is on disk.
public final class SQLiteStore: SealpostStore {
    let pool: DatabasePool
    let cache: SQLiteCache
    private let settingsWrites: GroupCommit<SettingsChange, (old: EnforcedTLSSettings, new: EnforcedTLSSettings)>
    /// Delivery results of concurrent sessions share transactions and fsyncs.
    let resolveWrites: GroupCommit<[DeliveryUpdate], Void>
    /// Mail accepted by concurrent requests and SMTP sessions shares transactions and fsyncs.
    let enqueueWrites: GroupCommit<Enqueue, Void>
    /// This process's name on the leases it takes (see `claimDeliveries`).
    public let leaseOwner = UUID().uuidString
    /// Held while the store serves (`exclusive`): one server per file.
    private let lock: ServeLock?
    public let displayName: String

    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    /// Throws `StoreError.schemaTooNew` if the file was migrated by a newer Sealpost.
    /// `exclusive` (for `serve`) first takes the lock next to the file, before any migration,
    /// so a second server on the same file is refused (`StoreError.inUse`).
    public init(path: String, exclusive: Bool = false) throws {
        lock = exclusive ? try ServeLock(path: path + ".serve-lock") : nil
        displayName = path
        var config = Configuration()
        config.busyMode = .timeout(10)
        config.foreignKeysEnabled = true
        pool = try DatabasePool(path: path, configuration: config)
        // GRDB sets NORMAL when it enables WAL on the (single, long-lived) writer connection;
        // raise it afterwards so commits are fsynced before we answer.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        let migrator = SQLiteMigrations.migrator
        let (superseded, applied) = try pool.read { db in
            (try migrator.hasBeenSuperseded(db), try migrator.appliedIdentifiers(db))
        }
        if superseded { throw StoreError.schemaTooNew(applied: applied.sorted()) }
        try migrator.migrate(pool)
        let cache = try SQLiteCache(path: path)
        let pool = self.pool
        let owner = leaseOwner
        self.cache = cache
        self.settingsWrites = GroupCommit { changes in await Self.commit(changes, pool: pool) }
        self.resolveWrites = GroupCommit { batches in await Self.commitResolutions(batches, pool: pool, owner: owner) }
        self.enqueueWrites = GroupCommit { batches in await Self.commitEnqueues(batches, pool: pool) }
    }

    /// One server per file (the lock): the leases a killed predecessor left are freed at once.
    public func beginServing() async throws -> Int {
        guard lock != nil else { throw StoreError.inUse("the SQLite store must be opened exclusively to serve") }
        return try await releaseAllLeases()
    }

    public func appliedMigrations() async throws -> [String] {
        try await pool.read { db in try SQLiteMigrations.migrator.appliedMigrations(db) }
    }

    public func close() { lock?.release() }

    /// Every write goes through here: the change and its change-log entry commit together.
    func write<T: Sendable>(_ scopes: [SQLiteCache.Scope], _ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await pool.write { db in
            let value = try body(db)
            try SQLiteCache.record(db, scopes)
            return value
        }
    }

    public func consistentReads<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        _ = try cache.validate()
        return try await SQLiteCache.$validatedInScope.withValue(true) { try await body() }
    }

    // MARK: Tenancy

    public func insertUser(kind: UserKind, name: String, email: String?, parentID: Int64?) async throws -> User {
        // Whole seconds, so the value returned equals the value read back later.
        let now = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        do {
            return try await write([.all]) { db in
                if let parentID {
                    guard let parent = try Self.fetchUser(db, sql: "SELECT * FROM users WHERE id = ?", [parentID]) else {
                        throw StoreError.notFound("parent account \(parentID)")
                    }
                    guard parent.kind == .account else { throw StoreError.notAParent(parent.name) }
                }
                try db.execute(
                    sql: "INSERT INTO users (kind, name, email, parent_id, created_at) VALUES (?, ?, ?, ?, ?)",
                    arguments: [kind.rawValue, name, email, parentID, now.timeIntervalSince1970])
                let id = db.lastInsertedRowID
                let d = EnforcedTLSSettings.default
                try db.execute(
                    sql: "INSERT INTO enforced_tls (user_id, require_tls, require_valid_cert, version) VALUES (?, ?, ?, ?)",
                    arguments: [id, d.requireTLS, d.requireValidCert, d.version.rawValue])
                return User(id: id, kind: kind, name: name, email: email, parentID: parentID, createdAt: now)
            }
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            throw StoreError.nameTaken(name)
        }
    }

    public func user(named name: String) async throws -> User? {
        try await pool.read { db in try Self.fetchUser(db, sql: "SELECT * FROM users WHERE name = ?", [name]) }
    }

    public func user(id: Int64) async throws -> User? {
        try await pool.read { db in try Self.fetchUser(db, sql: "SELECT * FROM users WHERE id = ?", [id]) }
    }

    public func subusers(parentID: Int64, username: String?, limit: Int, offset: Int) async throws -> [User] {
        try await pool.read { db in
            var sql = "SELECT * FROM users WHERE kind = 'subuser' AND parent_id = ?"
            var args: StatementArguments = [parentID]
            if let username {
                sql += " AND name = ?"
                args += [username]
            }
            sql += " ORDER BY id LIMIT ? OFFSET ?"
            args += [limit, offset]
            return try Row.fetchAll(db, sql: sql, arguments: args).map(Self.user(from:))
        }
    }

    public func subuser(parentID: Int64, username: String) async throws -> User? {
        try await cache.entries.value(\.subusers, "\(parentID) \(username)", epoch: cache.validate()) {
            try await pool.read { db in
                try Self.fetchUser(
                    db, sql: "SELECT * FROM users WHERE kind = 'subuser' AND parent_id = ? AND name = ?", [parentID, username])
            }
        }
    }

    public func customer(parentID: Int64, id: Int64) async throws -> User? {
        try await cache.entries.value(\.customers, "\(parentID) \(id)", epoch: cache.validate()) {
            try await pool.read { db in
                try Self.fetchUser(db, sql: "SELECT * FROM users WHERE kind = 'customer' AND parent_id = ? AND id = ?", [parentID, id])
            }
        }
    }

    // MARK: API keys

    public func insertKey(_ key: StoredAPIKey) async throws {
        try await write([.key(key.id)]) { db in
            guard try Self.fetchUser(db, sql: "SELECT * FROM users WHERE id = ?", [key.userID]) != nil else {
                throw StoreError.notFound("user \(key.userID)")
            }
            try db.execute(
                sql: "INSERT INTO api_keys (id, user_id, name, scopes, secret_hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [
                    key.id, key.userID, key.name, RowCoding.scopes(key.grant), Data(key.secretHash),
                    key.createdAt.timeIntervalSince1970, key.revokedAt?.timeIntervalSince1970,
                ])
        }
    }

    public func keyWithUser(id: String) async throws -> (StoredAPIKey, User)? {
        try await cache.entries.value(\.keys, id, epoch: cache.validate()) { try await fetchKeyWithUser(id: id) }
    }

    private func fetchKeyWithUser(id: String) async throws -> (StoredAPIKey, User)? {
        try await pool.read { db in
            guard
                let row = try Row.fetchOne(
                    db,
                    sql: """
                        SELECT k.id AS k_id, k.user_id AS k_user_id, k.name AS k_name, k.scopes AS k_scopes,
                               k.secret_hash AS k_secret_hash, k.created_at AS k_created_at, k.revoked_at AS k_revoked_at,
                               u.*
                        FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.id = ?
                        """, arguments: [id])
            else { return nil }
            let key = StoredAPIKey(
                id: row["k_id"], userID: row["k_user_id"], name: row["k_name"],
                grant: try RowCoding.grant(row["k_scopes"]),
                secretHash: [UInt8]((row["k_secret_hash"] as Data?) ?? Data()),
                createdAt: Date(timeIntervalSince1970: row["k_created_at"]),
                revokedAt: (row["k_revoked_at"] as Double?).map(Date.init(timeIntervalSince1970:)))
            return (key, try Self.user(from: row))
        }
    }

    public func keys(userID: Int64) async throws -> [StoredAPIKey] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM api_keys WHERE user_id = ? AND revoked_at IS NULL ORDER BY rowid", arguments: [userID])
                .map(Self.key(from:))
        }
    }

    public func revokeKey(id: String, userID: Int64?) async throws -> Bool {
        let now = Date().timeIntervalSince1970
        return try await write([.key(id)]) { db in
            if let userID {
                try db.execute(
                    sql: "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL",
                    arguments: [now, id, userID])
            } else {
                try db.execute(sql: "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", arguments: [now, id])
            }
            return db.changesCount > 0
        }
    }

    // MARK: Enforced TLS

    public func enforcedTLS(userID: Int64) async throws -> EnforcedTLSSettings {
        try await cache.entries.value(\.settings, userID, epoch: cache.validate()) {
            try await pool.read { db in
                guard let settings = try Self.fetchSettings(db, userID: userID) else { throw StoreError.notFound("user \(userID)") }
                return settings
            }
        }
    }

    public func updateEnforcedTLS(
        userID: Int64, patch: EnforcedTLSPatch, actor: AuditActor
    ) async throws
        -> (old: EnforcedTLSSettings, new: EnforcedTLSSettings)
    {
        try await settingsWrites.submit(SettingsChange(userID: userID, patch: patch, actor: actor))
    }

    /// One transaction for a batch of settings changes, applied in arrival order, one bad change
    /// (an unknown user) failing alone.
    private static func commit(
        _ changes: [SettingsChange], pool: DatabasePool
    ) async
        -> [Result<(old: EnforcedTLSSettings, new: EnforcedTLSSettings), any Error>]
    {
        let now = Date().timeIntervalSince1970
        do {
            let results = try await pool.write { db in
                let update = try db.cachedStatement(
                    sql: "UPDATE enforced_tls SET require_tls = ?, require_valid_cert = ?, version = ? WHERE user_id = ?")
                let audit = try db.cachedStatement(
                    sql: """
                        INSERT INTO settings_audit (user_id, key_id, on_behalf_of, via, old_value, new_value, at) VALUES (?, ?, ?, ?, ?, ?, ?)
                        """)
                var current: [Int64: EnforcedTLSSettings] = [:]
                for userID in SettingsBatch.userIDs(changes) { current[userID] = try fetchSettings(db, userID: userID) }
                let batch = SettingsBatch.fold(changes, current: current)
                for (userID, new) in batch.final {
                    try update.execute(arguments: [new.requireTLS, new.requireValidCert, new.version.rawValue, userID])
                }
                for entry in batch.applied {
                    try audit.execute(arguments: [
                        entry.change.userID, entry.change.actor.keyID, entry.change.actor.onBehalfOf, entry.change.actor.via,
                        entry.old.json, entry.new.json, now,
                    ])
                }
                let results = batch.results
                try SQLiteCache.record(db, Set(changes.map(\.userID)).map { .settings($0) })
                return results
            }
            return results
        } catch {
            return changes.map { _ in .failure(error) }
        }
    }

    public func auditEntries(userID: Int64?) async throws -> [AuditEntry] {
        try await pool.read { db in
            var sql = "SELECT a.*, u.name AS user_name FROM settings_audit a JOIN users u ON u.id = a.user_id"
            var args: StatementArguments = []
            if let userID {
                sql += " WHERE a.user_id = ?"
                args += [userID]
            }
            sql += " ORDER BY a.id"
            return try Row.fetchAll(db, sql: sql, arguments: args).map { row in
                let decoder = JSONDecoder()
                return AuditEntry(
                    id: row["id"], userID: row["user_id"], userName: row["user_name"],
                    actor: AuditActor(keyID: row["key_id"], onBehalfOf: row["on_behalf_of"], via: row["via"]),
                    old: try decoder.decode(EnforcedTLSSettings.self, from: Data((row["old_value"] as String).utf8)),
                    new: try decoder.decode(EnforcedTLSSettings.self, from: Data((row["new_value"] as String).utf8)),
                    at: Date(timeIntervalSince1970: row["at"]))
            }
        }
    }

    // MARK: Row mapping

    private static func fetchUser(_ db: Database, sql: String, _ args: StatementArguments) throws -> User? {
        try Row.fetchOne(db, sql: sql, arguments: args).map(user(from:))
    }

    private static func fetchSettings(_ db: Database, userID: Int64) throws -> EnforcedTLSSettings? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM enforced_tls WHERE user_id = ?"), arguments: [userID])
        else { return nil }
        return try RowCoding.settings(requireTLS: row["require_tls"], requireValidCert: row["require_valid_cert"], version: row["version"])
    }

    private static func user(from row: Row) throws -> User {
        guard let kind = UserKind(rawValue: row["kind"]) else { throw StoreError.notFound("user kind \(row["kind"] as String)") }
        return User(
            id: row["id"], kind: kind, name: row["name"], email: row["email"], parentID: row["parent_id"],
            createdAt: Date(timeIntervalSince1970: row["created_at"]))
    }

    private static func key(from row: Row) throws -> StoredAPIKey {
        StoredAPIKey(
            id: row["id"], userID: row["user_id"], name: row["name"], grant: try RowCoding.grant(row["scopes"]),
            secretHash: [UInt8]((row["secret_hash"] as Data?) ?? Data()),
            createdAt: Date(timeIntervalSince1970: row["created_at"]),
            revokedAt: (row["revoked_at"] as Double?).map(Date.init(timeIntervalSince1970:)))
    }
}

/// Busy or locked beyond GRDB's wait, an I/O error, a full disk, a file that cannot be opened.
extension DatabaseError: StoreAvailabilityError {
    public var meansStoreUnavailable: Bool {
        [.SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_IOERR, .SQLITE_FULL, .SQLITE_CANTOPEN, .SQLITE_PROTOCOL].contains(
            resultCode.primaryResultCode)
    }
}
