import GRDB
import SealpostSettings
import Synchronization

/// A read cache for the hot path (key lookup, tenant lookup, settings) that is never stale.
///
/// Every request first asks SQLite's `PRAGMA data_version` on a dedicated connection whether
/// any other connection — this server's own writer, an admin CLI, another process — committed
/// since the cache was filled; if so the cache is dropped. That costs microseconds instead of
/// a database read per lookup, and a key revoked from the CLI fails on the very next request.
///
/// This server's own commits would drop the cache every time too, so each write transaction
/// also bumps `meta.generation`: when the generation after our commit is exactly one past the
/// one our transaction saw, and the cache was filled at that generation, nobody else wrote in
/// between and the cache is kept, patched with what we wrote.
final class SQLiteCache: Sendable {
    struct State {
        var dataVersion: Int64 = -1
        var generation: Int64 = -1
        /// Incremented whenever the content changes wholesale; fills from an older epoch are dropped.
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

        var count: Int { keys.count + settings.count + subusers.count + customers.count }
    }

    /// Bound on entries, so unknown key ids sent by an attacker cannot grow memory.
    static let maxEntries = 50_000
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

    /// Checks for foreign commits and returns the epoch under which lookups may fill the cache.
    func validate() throws -> UInt64 {
        if Self.validatedInScope { return state.withLock { $0.epoch } }
        return try state.withLock { state in
            let version = try probe.inDatabase { db in try Int64.fetchOne(db.cachedStatement(sql: "PRAGMA data_version")) ?? 0 }
            if version != state.dataVersion {
                let (v, g) = try snapshot()
                state.clear()
                state.dataVersion = v
                state.generation = g
            }
            return state.epoch
        }
    }

    func lookup<T>(_ read: (State) -> T?) -> T? {
        state.withLock { read($0) }
    }

    /// Stores a value read from the database, unless the cache changed since `epoch`.
    func fill(epoch: UInt64, _ write: (inout State) -> Void) {
        state.withLock { state in
            guard state.epoch == epoch else { return }
            if state.count >= Self.maxEntries { state.clear() }
            write(&state)
            // `clear()` above bumped the epoch; keep this fill valid for its own data.
        }
    }

    /// After this process committed a transaction that moved the generation from `before` to
    /// `before + 1`: keep the cache (patched by `apply`) if nobody else wrote; drop it otherwise.
    func afterOwnCommit(generationBefore before: Int64, apply: (inout State) -> Void) {
        // Read outside the lock so requests are not held up. Safe: if a request's `validate()`
        // moved the cache on meanwhile, its generation no longer equals `before` and the
        // cache is dropped; a too-old `dataVersion` only causes one extra refresh.
        let snap = try? snapshot()
        state.withLock { state in
            guard let (v, g) = snap else {
                state.clear()
                state.dataVersion = -1
                return
            }
            if state.generation == before && g == before + 1 {
                apply(&state)
                state.epoch &+= 1
            } else {
                state.clear()
            }
            state.dataVersion = v
            state.generation = g
        }
    }

    /// `data_version` and `generation` from one consistent read transaction.
    private func snapshot() throws -> (Int64, Int64) {
        try probe.read { db in
            let v = try Int64.fetchOne(db.cachedStatement(sql: "PRAGMA data_version")) ?? 0
            let g = try Int64.fetchOne(db.cachedStatement(sql: "SELECT value FROM meta WHERE key = 'generation'")) ?? 0
            return (v, g)
        }
    }
}
