import GRDB
import SealpostCore
import SealpostStorage
import Synchronization

/// A read cache for the hot path (key lookup, tenant lookup, settings) that is never stale.
///
/// Every request first asks SQLite's `PRAGMA data_version` on a dedicated connection whether any
/// other connection — this server's own writer, an admin CLI, another process — committed since
/// the cache was last checked. That costs microseconds instead of a database read per lookup.
/// When something was committed, the change log (`changes`, written by every write transaction
/// in the same transaction as its change) says what: only those entries are dropped, so a
/// PATCH storm does not empty the key cache, and a key revoked from the CLI fails on the very
/// next request.
final class SQLiteCache: Sendable {
    typealias Scope = ReadCache.Scope

    let entries = ReadCache()
    /// The `data_version` seen at the last look; guards the catch-up so it runs once per commit.
    private let dataVersion = Mutex<Int64>(-1)
    private let probe: DatabaseQueue

    init(path: String) throws {
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(10)
        probe = try DatabaseQueue(path: path, configuration: config)
    }

    /// Set inside `SQLiteStore.consistentReads`: the probe already ran for this request.
    @TaskLocal static var validatedInScope = false

    /// Brings the cache up to date with every commit so far and returns the epoch under which
    /// lookups may fill it.
    func validate() throws -> UInt64 {
        if Self.validatedInScope { return entries.epoch }
        return try dataVersion.withLock { seen in
            let version = try probe.inDatabase { db in try Int64.fetchOne(db.cachedStatement(sql: "PRAGMA data_version")) ?? 0 }
            if version == seen { return entries.epoch }
            let since = entries.generation
            let (v, g, scopes) = try probe.read { db -> (Int64, Int64, [String]?) in
                let v = try Int64.fetchOne(db.cachedStatement(sql: "PRAGMA data_version")) ?? 0
                let g = try Int64.fetchOne(db.cachedStatement(sql: "SELECT value FROM meta WHERE key = 'generation'")) ?? 0
                let pruned = try Int64.fetchOne(db.cachedStatement(sql: "SELECT value FROM meta WHERE key = 'pruned_through'")) ?? 0
                guard since >= 0, since >= pruned else { return (v, g, nil) }
                let scopes = try String.fetchAll(
                    db.cachedStatement(sql: "SELECT scope FROM changes WHERE generation > ?"), arguments: [since])
                return (v, g, scopes)
            }
            seen = v
            return entries.catchUp(to: g, changes: scopes)
        }
    }

    /// Called inside every write transaction: moves the generation on and logs what changed.
    ///
    /// A write that touches no cached scope (the queue, leases, events) records nothing: it
    /// cannot make an entry stale, and an empty claim then writes no page and costs no fsync.
    static func record(_ db: Database, _ scopes: [Scope]) throws {
        guard !scopes.isEmpty else { return }
        let before = try Int64.fetchOne(db.cachedStatement(sql: "SELECT value FROM meta WHERE key = 'generation'")) ?? 0
        let generation = before + 1
        try db.cachedStatement(sql: "UPDATE meta SET value = ? WHERE key = 'generation'").execute(arguments: [generation])
        let insert = try db.cachedStatement(sql: "INSERT INTO changes (generation, scope) VALUES (?, ?)")
        for scope in scopes { try insert.execute(arguments: [generation, scope.text]) }
        if let through = ReadCache.pruneThrough(afterWriting: generation) {
            try db.cachedStatement(sql: "DELETE FROM changes WHERE generation <= ?").execute(arguments: [through])
            try db.cachedStatement(
                sql: "INSERT INTO meta (key, value) VALUES ('pruned_through', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
            )
            .execute(arguments: [through])
        }
    }
}
