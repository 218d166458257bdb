import Foundation
import Logging
import PostgresNIO
import SealpostCore
import SealpostStorage

/// The store for several Sealpost nodes on one PostgreSQL database.
///
/// Hot-path reads come from a per-node cache that every request first brings up to date with
/// the database's change log (`PostgresStore+Cache`), so a change committed through any node is
/// seen by the next request or delivery round of every node. Coordination is PostgreSQL's own: row locks with `SKIP LOCKED` for claiming queue rows,
/// expiring leases with an owner for taking over the work of a dead node, advisory locks for
/// migrations.
public final class PostgresStore: SealpostStore {
    let client: PostgresClient
    let logger: Logger
    private let runner: Task<Void, Never>
    /// This process's name on the leases it takes.
    public let leaseOwner = UUID().uuidString
    let resolveWrites: GroupCommit<[DeliveryUpdate], Void>
    let cache = ReadCache()
    private let settingsWrites: GroupCommit<SettingsChange, (old: EnforcedTLSSettings, new: EnforcedTLSSettings)>

    /// Connects; with `migrate`, applies pending migrations first. Without it (`serve`), a
    /// database that lacks migrations, or has ones this Sealpost does not know, is refused.
    public static func open(url: String, logger: Logger, migrate: Bool) async throws -> PostgresStore {
        let parsed = try PostgresURL(url)
        let store = PostgresStore(
            client: PostgresClient(configuration: parsed.clientConfiguration, backgroundLogger: logger), logger: logger,
            displayName: PostgresURL.redacted(url))
        await store.started()
        do {
            try await store.waitForConnection(timeout: .seconds(15))
            if migrate { _ = try await store.migrate() }
            let applied = try await PostgresMigrations.applied(store.client, logger: logger)
            let known = Schema.migrations
            if applied.contains(where: { !known.contains($0) }) { throw StoreError.schemaTooNew(applied: applied.sorted()) }
            let missing = known.filter { !applied.contains($0) }
            if !missing.isEmpty { throw StoreError.schemaBehind(missing: missing) }
            return store
        } catch {
            store.close()
            throw error
        }
    }

    init(client: PostgresClient, logger: Logger, displayName: String = "postgres") {
        self.displayName = displayName
        self.client = client
        self.logger = logger
        let (stream, continuation) = AsyncStream<Void>.makeStream()
        runnerStarted = stream
        runner = Task {
            continuation.finish()
            await client.run()
        }
        let owner = leaseOwner
        resolveWrites = GroupCommit { [client, logger] batches in
            await Self.commitResolutions(batches, client: client, owner: owner, logger: logger)
        }
        settingsWrites = GroupCommit { [client, logger] changes in
            await Self.commitSettings(changes, client: client, logger: logger)
        }
    }

    private let runnerStarted: AsyncStream<Void>

    /// Returns once the pool's `run()` is under way (queries before it only log a warning and
    /// wait, but the warning would confuse operators).
    func started() async {
        for await _ in runnerStarted {}
        await Task.yield()
    }

    deinit { runner.cancel() }

    /// The pool retries a refused connection forever; at start, a wrong URL or a database that
    /// is down must be an error the operator sees, not a silent hang.
    func waitForConnection(timeout: Duration) async throws {
        let client = self.client
        let logger = self.logger
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await client.query("SELECT 1", logger: logger)
                return true
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return false
            }
            let connected = try await group.next() ?? false
            group.cancelAll()
            if !connected {
                throw PostgresURLError(
                    "no connection within \(timeout.components.seconds) s: is the server up, and are host, port, user and password right?")
            }
        }
    }

    /// Stops the connection pool.
    public func close() { runner.cancel() }

    /// The database, password hidden.
    public let displayName: String

    /// Several nodes share the queue: a dead node's leases expire (`--lease`); none is freed.
    public func beginServing() async throws -> Int { 0 }

    /// Applies pending migrations (`sealpost migrate`); returns their names.
    public func migrate() async throws -> [String] {
        try await PostgresMigrations.migrate(client, logger: logger)
    }

    public func appliedMigrations() async throws -> [String] {
        try await PostgresMigrations.applied(client, logger: logger)
    }

    /// A transaction whose errors come out as thrown by the body, not wrapped in
    /// `PostgresTransactionError`, so callers match `StoreError` and `PSQLError` directly.
    /// How long one database call may take before the caller stops waiting (see `withDeadline`).
    static let deadline: Duration = .seconds(20)

    static func transaction<T: Sendable>(
        client: PostgresClient, logger: Logger,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        do {
            return try await withDeadline(deadline, "PostgreSQL transaction") {
                try await client.withTransaction(logger: logger) { tx in try await body(tx) }
            }
        } catch let error as PostgresTransactionError {
            // The cause, wherever it struck (BEGIN, the body, COMMIT, ROLLBACK), so that callers
            // see what happened, a broken connection included (answered 503, see PSQLError below).
            throw error.closureError ?? error.beginError ?? error.commitError ?? error.rollbackError ?? error
        }
    }

    func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await Self.transaction(client: client, logger: logger, body)
    }

    /// A pooled connection for `body`, within `deadline`.
    func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await withDeadline(Self.deadline, "PostgreSQL") { [client] in try await client.withConnection(body) }
    }

    static func isUniqueViolation(_ error: any Error) -> Bool {
        (error as? PSQLError)?.serverInfo?[.sqlState] == "23505"
    }

    // MARK: Tenancy

    public func insertUser(kind: UserKind, name: String, email: String?, parentID: Int64?) async throws -> User {
        let now = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        let d = EnforcedTLSSettings.default
        do {
            return try await transaction { [self] tx in
                if let parentID {
                    guard
                        let parent = try await Self.fetchUser(
                            tx, "SELECT \(unescaped: Self.userColumns) FROM users WHERE id = \(parentID)", logger: logger)
                    else {
                        throw StoreError.notFound("parent account \(parentID)")
                    }
                    guard parent.kind == .account else { throw StoreError.notAParent(parent.name) }
                }
                var id: Int64 = 0
                for try await value in try await tx.query(
                    """
                    INSERT INTO users (kind, name, email, parent_id, created_at)
                    VALUES (\(kind.rawValue), \(name), \(email), \(parentID), \(now.timeIntervalSince1970)) RETURNING id
                    """, logger: logger
                ).decode(Int64.self) { id = value }
                try await tx.query(
                    """
                    INSERT INTO enforced_tls (user_id, require_tls, require_valid_cert, version)
                    VALUES (\(id), \(d.requireTLS), \(d.requireValidCert), \(d.version.rawValue))
                    """, logger: logger)
                try await Self.record(tx, [.all], logger: logger)
                return User(id: id, kind: kind, name: name, email: email, parentID: parentID, createdAt: now)
            }
        } catch  where Self.isUniqueViolation(error) {
            throw StoreError.nameTaken(name)
        }
    }

    static let userColumns = "id, kind, name, email, parent_id, created_at"

    public func user(named name: String) async throws -> User? {
        try await withConnection { [self] c in
            try await Self.fetchUser(c, "SELECT \(unescaped: Self.userColumns) FROM users WHERE name = \(name)", logger: logger)
        }
    }

    public func user(id: Int64) async throws -> User? {
        try await withConnection { [self] c in
            try await Self.fetchUser(c, "SELECT \(unescaped: Self.userColumns) FROM users WHERE id = \(id)", logger: logger)
        }
    }

    public func subusers(parentID: Int64, username: String?, limit: Int, offset: Int) async throws -> [User] {
        try await withConnection { [self] c in
            let query: PostgresQuery =
                if let username {
                    "SELECT \(unescaped: Self.userColumns) FROM users WHERE kind = 'subuser' AND parent_id = \(parentID) AND name = \(username) ORDER BY id LIMIT \(limit) OFFSET \(offset)"
                } else {
                    "SELECT \(unescaped: Self.userColumns) FROM users WHERE kind = 'subuser' AND parent_id = \(parentID) ORDER BY id LIMIT \(limit) OFFSET \(offset)"
                }
            return try await Self.fetchUsers(c, query, logger: logger)
        }
    }

    public func subuser(parentID: Int64, username: String) async throws -> User? {
        try await cache.value(\.subusers, "\(parentID) \(username)", epoch: validate()) {
            try await withConnection { [self] c in
                try await Self.fetchUser(
                    c,
                    """
                    SELECT \(unescaped: Self.userColumns) FROM users WHERE kind = 'subuser' AND parent_id = \(parentID) AND name = \(username)
                    """, logger: logger)
            }
        }
    }

    public func customer(parentID: Int64, id: Int64) async throws -> User? {
        try await cache.value(\.customers, "\(parentID) \(id)", epoch: validate()) {
            try await withConnection { [self] c in
                try await Self.fetchUser(
                    c,
                    """
                    SELECT \(unescaped: Self.userColumns) FROM users WHERE kind = 'customer' AND parent_id = \(parentID) AND id = \(id)
                    """, logger: logger)
            }
        }
    }

    // MARK: API keys

    public func insertKey(_ key: StoredAPIKey) async throws {
        guard try await user(id: key.userID) != nil else { throw StoreError.notFound("user \(key.userID)") }
        let scopes = try RowCoding.scopes(key.grant)
        try await transaction { [self] tx in
            try await tx.query(
                """
                INSERT INTO api_keys (id, user_id, name, scopes, secret_hash, created_at, revoked_at)
                VALUES (\(key.id), \(key.userID), \(key.name), \(scopes), \(Data(key.secretHash)),
                        \(key.createdAt.timeIntervalSince1970), \(key.revokedAt?.timeIntervalSince1970))
                """, logger: logger)
            // A cached "no such key" for this id must go.
            try await Self.record(tx, [.key(key.id)], logger: logger)
        }
    }

    static let keyColumns = "k.id, k.user_id, k.name, k.scopes, k.secret_hash, k.created_at, k.revoked_at"

    public func keyWithUser(id: String) async throws -> (StoredAPIKey, User)? {
        try await cache.value(\.keys, id, epoch: validate()) { try await fetchKeyWithUser(id: id) }
    }

    private func fetchKeyWithUser(id: String) async throws -> (StoredAPIKey, User)? {
        try await withConnection { [self] c in
            let rows = try await c.query(
                """
                SELECT \(unescaped: Self.keyColumns), u.id, u.kind, u.name, u.email, u.parent_id, u.created_at
                FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.id = \(id)
                """, logger: logger)
            for try await (kid, kuid, kname, scopes, hash, kcreated, krevoked, uid, kind, name, email, parent, created)
                in rows
                .decode((String, Int64, String, String?, Data, Double, Double?, Int64, String, String, String?, Int64?, Double).self)
            {
                return (
                    try Self.key(kid, kuid, kname, scopes, hash, kcreated, krevoked), try Self.user(uid, kind, name, email, parent, created)
                )
            }
            return nil
        }
    }

    public func keys(userID: Int64) async throws -> [StoredAPIKey] {
        try await withConnection { [self] c in
            var keys: [StoredAPIKey] = []
            for try await (id, uid, name, scopes, hash, created, revoked) in try await c.query(
                """
                SELECT \(unescaped: Self.keyColumns) FROM api_keys k WHERE k.user_id = \(userID) AND k.revoked_at IS NULL ORDER BY k.seq
                """, logger: logger
            ).decode((String, Int64, String, String?, Data, Double, Double?).self) {
                keys.append(try Self.key(id, uid, name, scopes, hash, created, revoked))
            }
            return keys
        }
    }

    public func revokeKey(id: String, userID: Int64?) async throws -> Bool {
        let now = Date().timeIntervalSince1970
        let query: PostgresQuery =
            if let userID {
                "UPDATE api_keys SET revoked_at = \(now) WHERE id = \(id) AND user_id = \(userID) AND revoked_at IS NULL RETURNING id"
            } else {
                "UPDATE api_keys SET revoked_at = \(now) WHERE id = \(id) AND revoked_at IS NULL RETURNING id"
            }
        return try await transaction { [self] tx in
            guard try await Self.count(tx, query, logger: logger) > 0 else { return false }
            try await Self.record(tx, [.key(id)], logger: logger)
            return true
        }
    }

    // MARK: Enforced TLS

    public func enforcedTLS(userID: Int64) async throws -> EnforcedTLSSettings {
        try await cache.value(\.settings, userID, epoch: validate()) {
            try await withConnection { [self] c in
                guard let settings = try await Self.fetchSettings(c, userID: userID, forUpdate: false, logger: logger) else {
                    throw StoreError.notFound("user \(userID)")
                }
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

    /// One transaction for a batch of concurrent PATCHes (group commit, as on SQLite), applied in
    /// arrival order; an unknown user fails alone. The rows are locked up front in user-id order,
    /// so batches of different nodes never deadlock, and each audit entry's old value is exactly
    /// the previous entry's new value, whichever node wrote it.
    static func commitSettings(
        _ changes: [SettingsChange], client: PostgresClient, logger: Logger
    ) async
        -> [Result<(old: EnforcedTLSSettings, new: EnforcedTLSSettings), any Error>]
    {
        let now = Date().timeIntervalSince1970
        do {
            return try await transaction(client: client, logger: logger) { tx in
                var current: [Int64: EnforcedTLSSettings] = [:]
                let ids = SettingsBatch.userIDs(changes)
                for try await (userID, requireTLS, requireValidCert, version) in try await tx.query(
                    """
                    SELECT user_id, require_tls, require_valid_cert, version FROM enforced_tls
                    WHERE user_id = ANY(\(ids)) ORDER BY user_id FOR UPDATE
                    """, logger: logger
                ).decode((Int64, Bool, Bool, String).self) {
                    current[userID] = try RowCoding.settings(requireTLS: requireTLS, requireValidCert: requireValidCert, version: version)
                }
                let batch = SettingsBatch.fold(changes, current: current)
                let audit = batch.applied.map { ($0.change, $0.old, $0.new) }
                let touched = batch.final.keys.sorted()
                for userID in touched {
                    guard let s = batch.final[userID] else { continue }
                    try await tx.query(
                        """
                        UPDATE enforced_tls SET require_tls = \(s.requireTLS), require_valid_cert = \(s.requireValidCert),
                            version = \(s.version.rawValue) WHERE user_id = \(userID)
                        """, logger: logger)
                }
                if !audit.isEmpty {
                    try await tx.query(
                        """
                        INSERT INTO settings_audit (user_id, key_id, on_behalf_of, via, old_value, new_value, at)
                        -- Arrays cannot hold NULL here: '' stands for "none" (ids are never empty).
                        SELECT u, NULLIF(k, ''), NULLIF(b, ''), v, o, n, \(now)
                        FROM unnest(\(audit.map(\.0.userID))::bigint[], \(audit.map { $0.0.actor.keyID ?? "" })::text[],
                                    \(audit.map { $0.0.actor.onBehalfOf ?? "" })::text[], \(audit.map(\.0.actor.via))::text[],
                                    \(audit.map(\.1.json))::text[], \(audit.map(\.2.json))::text[]) WITH ORDINALITY AS t(u, k, b, v, o, n, i)
                        ORDER BY i
                        """, logger: logger)
                    try await record(tx, touched.map { .settings($0) }, logger: logger)
                }
                return batch.results
            }
        } catch {
            return changes.map { _ in .failure(error) }
        }
    }

    public func auditEntries(userID: Int64?) async throws -> [AuditEntry] {
        let base = """
            SELECT a.id, a.user_id, u.name, a.key_id, a.on_behalf_of, a.via, a.old_value, a.new_value, a.at
            FROM settings_audit a JOIN users u ON u.id = a.user_id
            """
        let query: PostgresQuery =
            if let userID {
                "\(unescaped: base) WHERE a.user_id = \(userID) ORDER BY a.id"
            } else {
                "\(unescaped: base) ORDER BY a.id"
            }
        return try await withConnection { [self] c in
            var entries: [AuditEntry] = []
            let decoder = JSONDecoder()
            for try await (id, uid, name, keyID, onBehalfOf, via, old, new, at) in try await c.query(query, logger: logger)
                .decode((Int64, Int64, String, String?, String?, String, String, String, Double).self)
            {
                entries.append(
                    AuditEntry(
                        id: id, userID: uid, userName: name, actor: AuditActor(keyID: keyID, onBehalfOf: onBehalfOf, via: via),
                        old: try decoder.decode(EnforcedTLSSettings.self, from: Data(old.utf8)),
                        new: try decoder.decode(EnforcedTLSSettings.self, from: Data(new.utf8)),
                        at: Date(timeIntervalSince1970: at)))
            }
            return entries
        }
    }

    // MARK: Row mapping

    static func fetchUser(_ c: PostgresConnection, _ query: PostgresQuery, logger: Logger) async throws -> User? {
        try await fetchUsers(c, query, logger: logger).first
    }

    static func fetchUsers(_ c: PostgresConnection, _ query: PostgresQuery, logger: Logger) async throws -> [User] {
        var users: [User] = []
        for try await (id, kind, name, email, parent, created) in try await c.query(query, logger: logger)
            .decode((Int64, String, String, String?, Int64?, Double).self)
        {
            users.append(try user(id, kind, name, email, parent, created))
        }
        return users
    }

    static func user(_ id: Int64, _ kind: String, _ name: String, _ email: String?, _ parent: Int64?, _ created: Double) throws -> User {
        guard let kind = UserKind(rawValue: kind) else { throw StoreError.notFound("user kind \(kind)") }
        return User(id: id, kind: kind, name: name, email: email, parentID: parent, createdAt: Date(timeIntervalSince1970: created))
    }

    static func key(
        _ id: String, _ userID: Int64, _ name: String, _ scopes: String?, _ hash: Data, _ created: Double,
        _ revoked: Double?
    ) throws -> StoredAPIKey {
        StoredAPIKey(
            id: id, userID: userID, name: name, grant: try RowCoding.grant(scopes), secretHash: [UInt8](hash),
            createdAt: Date(timeIntervalSince1970: created), revokedAt: revoked.map(Date.init(timeIntervalSince1970:)))
    }

    static func fetchSettings(_ c: PostgresConnection, userID: Int64, forUpdate: Bool, logger: Logger) async throws -> EnforcedTLSSettings?
    {
        let query: PostgresQuery =
            forUpdate
            ? "SELECT require_tls, require_valid_cert, version FROM enforced_tls WHERE user_id = \(userID) FOR UPDATE"
            : "SELECT require_tls, require_valid_cert, version FROM enforced_tls WHERE user_id = \(userID)"
        for try await (requireTLS, requireValidCert, versionText) in try await c.query(query, logger: logger).decode(
            (Bool, Bool, String).self)
        {
            return try RowCoding.settings(requireTLS: requireTLS, requireValidCert: requireValidCert, version: versionText)
        }
        return nil
    }

    /// Rows a statement returned (for `UPDATE … RETURNING`).
    static func count(_ c: PostgresConnection, _ query: PostgresQuery, logger: Logger) async throws -> Int {
        var n = 0
        for try await _ in try await c.query(query, logger: logger) { n += 1 }
        return n
    }
}

/// Connection-level failures and the server's "cannot serve now" states: SQLSTATE class 08
/// (connection exception), 53 (insufficient resources), 57P01–57P03 (shutting down, starting).
extension PSQLError: StoreAvailabilityError {
    public var meansStoreUnavailable: Bool {
        switch code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed:
            return true
        case .server:
            guard let state = serverInfo?[.sqlState] else { return false }
            return state.hasPrefix("08") || state.hasPrefix("53") || ["57P01", "57P02", "57P03"].contains(state)
        default:
            return false
        }
    }
}
