import GRDB
import SealpostSettings
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
    /// What a write transaction touched.
    enum Scope: Sendable {
        case settings(Int64)
        case key(String)
        /// Users (tenant lookups) and anything not worth naming: drop everything.
        case all

        var text: String {
            switch self {
            case .settings(let id): "settings:\(id)"
            case .key(let id): "key:\(id)"
            case .all: "*"
            }
        }
    }

    struct State {
        var dataVersion: Int64 = -1
        var generation: Int64 = -1
        /// Incremented whenever entries are dropped; fills from an older epoch are refused.
        var epoch: UInt64 = 0
        var keys: [String: (StoredAPIKey, User)?] = [:]
        var settings: [Int64: EnforcedTLSSettings] = [:]
        var subusers: [String: User?] = [:]
        var customers: [String: User?] = [:]

        mutating func clear() {
            keys = [:]
            settings = [:]
            subusers = [:]
            customers = [:]
            epoch &+= 1
        }

        mutating func drop(_ scope: String) {
            if scope.hasPrefix("settings:"), let id = Int64(scope.dropFirst(9)) {
                settings[id] = nil
            } else if scope.hasPrefix("key:") {
                keys[String(scope.dropFirst(4))] = nil
            } else {
                clear()
            }
            epoch &+= 1
        }

        var count: Int { keys.count + settings.count + subusers.count + customers.count }
    }

    /// Bound on entries, so unknown key ids sent by an attacker cannot grow memory.
    static let maxEntries = 50_000
    /// Change-log rows kept; a cache further behind than this is simply cleared.
    static let logLength: Int64 = 10_000
    private let probe: DatabaseQueue
    private let state = Mutex(State())

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
        if Self.validatedInScope { return state.withLock { $0.epoch } }
        return try state.withLock { state in
            let version = try probe.inDatabase { db in try Int64.fetchOne(db.cachedStatement(sql: "PRAGMA data_version")) ?? 0 }
            if version == state.dataVersion { return state.epoch }
            let since = state.generation
            let (v, g, scopes) = try probe.read { db -> (Int64, Int64, [String]?) in
                let v = try Int64.fetchOne(db.cachedStatement(sql: "PRAGMA data_version")) ?? 0
                let g = try Int64.fetchOne(db.cachedStatement(sql: "SELECT value FROM meta WHERE key = 'generation'")) ?? 0
                let pruned = try Int64.fetchOne(db.cachedStatement(sql: "SELECT value FROM meta WHERE key = 'pruned_through'")) ?? 0
                guard since >= 0, since >= pruned else { return (v, g, nil) }
                let scopes = try String.fetchAll(db.cachedStatement(sql: "SELECT scope FROM changes WHERE generation > ?"), arguments: [since])
                return (v, g, scopes)
            }
            if let scopes {
                for scope in Set(scopes) { state.drop(scope) }
            } else {
                state.clear()
            }
            state.dataVersion = v
            state.generation = g
            return state.epoch
        }
    }

    func lookup<T>(_ read: (State) -> T?) -> T? {
        state.withLock { read($0) }
    }

    /// Stores a value read from the database, unless entries were dropped since `epoch`.
    func fill(epoch: UInt64, _ write: (inout State) -> Void) {
        state.withLock { state in
            guard state.epoch == epoch else { return }
            if state.count >= Self.maxEntries { state.clear() }
            write(&state)
        }
    }

    /// Called inside every write transaction: moves the generation on and logs what changed.
    static func record(_ db: Database, _ scopes: [Scope]) throws {
        let before = try Int64.fetchOne(db.cachedStatement(sql: "SELECT value FROM meta WHERE key = 'generation'")) ?? 0
        let generation = before + 1
        try db.cachedStatement(sql: "UPDATE meta SET value = ? WHERE key = 'generation'").execute(arguments: [generation])
        let insert = try db.cachedStatement(sql: "INSERT INTO changes (generation, scope) VALUES (?, ?)")
        for scope in scopes { try insert.execute(arguments: [generation, scope.text]) }
        if generation % 1000 == 0, generation > logLength {
            let through = generation - logLength
            try db.cachedStatement(sql: "DELETE FROM changes WHERE generation <= ?").execute(arguments: [through])
            try db.cachedStatement(sql: "INSERT INTO meta (key, value) VALUES ('pruned_through', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
                .execute(arguments: [through])
        }
    }
}
