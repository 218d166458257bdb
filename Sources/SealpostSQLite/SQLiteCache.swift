import GRDB
import SealpostCore
import SealpostStorage
import Synchronization

/// A read cache for the hot path (key lookup, tenant lookup, settings) that is never stale.
///
/// Every request first looks whether any connection — this server's own writer, an admin CLI,
/// another process — committed since the cache was last checked: it compares the wal-index
/// header, which every commit rewrites, with the one seen at the last catch-up (a few memory
/// loads from SQLite's own mapping, no lock, no system call). Only when the header moved (or
/// cannot be read) does it ask SQLite's `PRAGMA data_version` on a dedicated connection.
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
    /// SQLite's mapping of the wal-index, taken from `probe` (which therefore lives as long as
    /// this cache); nil where there is none, and every request asks SQLite.
    private let walIndex: WALIndexMapping?
    /// The header read just before the last catch-up: while the header still equals it, no
    /// commit happened since, and the cache is exact without asking SQLite.
    private let caughtUpAt = Mutex<WALIndexHeader?>(nil)
    /// How often SQLite was asked (tests: the fast path must skip it while nothing commits).
    let probes = Atomic<Int>(0)

    init(path: String) throws {
        var config = Configuration()
        config.readonly = true
        config.busyMode = .timeout(10)
        probe = try DatabaseQueue(path: path, configuration: config)
        walIndex = probe.inDatabase { db in WALIndexMapping(db) }
    }

    /// True when the fast path can work here (a WAL database whose wal-index is mapped).
    var readsWALIndex: Bool { walIndex != nil }

    /// Set inside `SQLiteStore.consistentReads`: the probe already ran for this request.
    @TaskLocal static var validatedInScope = false

    /// Brings the cache up to date with every commit so far and returns the epoch under which
    /// lookups may fill it.
    func validate() throws -> UInt64 {
        if Self.validatedInScope { return entries.epoch }
        // Read before anything else: a commit after this read moves the header on, so the
        // next request catches up again; one before it is seen by the catch-up below.
        let header = walIndex?.read()
        if let header, caughtUpAt.withLock({ $0 == header }) { return entries.epoch }
        probes.add(1, ordering: .relaxed)
        return try dataVersion.withLock { seen in
            let version = try probe.inDatabase { db in try Int64.fetchOne(db.cachedStatement(sql: "PRAGMA data_version")) ?? 0 }
            if version == seen {
                caughtUpAt.withLock { $0 = header }
                return entries.epoch
            }
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
            let epoch = entries.catchUp(to: g, changes: scopes)
            // Only after a successful catch-up: a failed one leaves the next request asking too.
            caughtUpAt.withLock { $0 = header }
            return epoch
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
