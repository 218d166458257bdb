import SealpostCore
import Synchronization

/// The hot-path read cache both backends share (key lookup, tenant lookups, settings), kept
/// exact by a change log: every write transaction moves a generation counter on and records
/// what it touched, in the same transaction as its change. Before serving a request, a store
/// asks its database for the generation (the backend's cheap probe) and hands the change-log
/// entries since its last look to `catchUp`, which drops exactly those entries.
public final class ReadCache: Sendable {
    /// What a write transaction touched.
    public enum Scope: Sendable {
        case settings(Int64)
        case key(String)
        /// Users (tenant lookups) and anything not worth naming: drop everything.
        case all

        public var text: String {
            switch self {
            case .settings(let id): "settings:\(id)"
            case .key(let id): "key:\(id)"
            case .all: "*"
            }
        }
    }

    public struct Entries: Sendable {
        public var keys: [String: (StoredAPIKey, User)?] = [:]
        public var settings: [Int64: EnforcedTLSSettings] = [:]
        /// Per-domain entries, under the same `settings:` scope as the account setting.
        public var domainEntries: [Int64: [DomainTLSEntry]] = [:]
        public var subusers: [String: User?] = [:]
        public var customers: [String: User?] = [:]

        var count: Int { keys.count + settings.count + domainEntries.count + subusers.count + customers.count }
    }

    private struct State {
        var entries = Entries()
        /// The database generation the entries reflect; -1 before the first look.
        var generation: Int64 = -1
        /// Moves on whenever entries are dropped; fills read under an older epoch are refused.
        var epoch: UInt64 = 0

        mutating func clear() {
            entries = Entries()
            epoch &+= 1
        }

        mutating func drop(_ scope: String) {
            if scope.hasPrefix("settings:"), let id = Int64(scope.dropFirst(9)) {
                entries.settings[id] = nil
                entries.domainEntries[id] = nil
            } else if scope.hasPrefix("key:") {
                entries.keys[String(scope.dropFirst(4))] = nil
            } else {
                clear()
            }
            epoch &+= 1
        }
    }

    /// Bound on entries, so unknown key ids sent by an attacker cannot grow memory.
    public static let maxEntries = 50_000
    /// Change-log rows kept; a cache further behind than this is simply cleared.
    public static let logLength: Int64 = 10_000

    /// The change-log rule both backends follow when a write moves the generation to
    /// `generation`: every 1,000th generation, entries older than `logLength` generations are
    /// pruned (and `pruned_through` recorded); returns the generation to prune through, if any.
    public static func pruneThrough(afterWriting generation: Int64) -> Int64? {
        guard generation % 1000 == 0, generation > logLength else { return nil }
        return generation - logLength
    }

    private let state = Mutex(State())

    public init() {}

    /// The generation the cache reflects (-1: never synchronised).
    public var generation: Int64 { state.withLock { $0.generation } }

    public var epoch: UInt64 { state.withLock { $0.epoch } }

    /// Brings the cache to `generation`: drops what `changes` (the change log's scopes since the
    /// cache's generation) name, or everything when the log could not say (`nil`). Returns the
    /// epoch under which lookups may fill it.
    public func catchUp(to generation: Int64, changes: [String]?) -> UInt64 {
        state.withLock { state in
            guard generation != state.generation else { return state.epoch }
            if let changes {
                for scope in Set(changes) { state.drop(scope) }
            } else {
                state.clear()
            }
            state.generation = generation
            return state.epoch
        }
    }

    private func lookup<T>(_ read: (Entries) -> T?) -> T? {
        state.withLock { read($0.entries) }
    }

    /// The cached value at `path[key]`, or `load()`'s, which is then kept unless entries were
    /// dropped since `epoch` (from the request's catch-up). A cached `nil` (a miss) is kept too.
    public func value<Key: Hashable, Value>(
        _ path: WritableKeyPath<Entries, [Key: Value]>, _ key: Key, epoch: UInt64,
        load: () async throws -> Value
    ) async throws -> Value {
        if let hit = lookup({ $0[keyPath: path][key] }) { return hit }
        let value = try await load()
        fill(epoch: epoch) { $0[keyPath: path][key] = value }
        return value
    }

    /// Stores a value read from the database, unless entries were dropped since `epoch`.
    private func fill(epoch: UInt64, _ write: (inout Entries) -> Void) {
        state.withLock { state in
            guard state.epoch == epoch else { return }
            if state.entries.count >= Self.maxEntries { state.clear() }
            write(&state.entries)
        }
    }
}
