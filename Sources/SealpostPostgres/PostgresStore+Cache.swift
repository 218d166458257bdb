import Logging
import PostgresNIO
import SealpostCore
import SealpostStorage

/// The per-node read cache on PostgreSQL, exact across nodes.
///
/// Each request costs one small query (the generation, and the change-log scopes since this
/// node's last look) instead of one query per lookup; a write made through any node (or the
/// admin CLI) bumps the generation in its own transaction, so the very next request on every
/// node drops what it changed. The price is that writes of cached data (users, keys, settings)
/// take turns on the generation row, which they hold until they commit.
extension PostgresStore {
    @TaskLocal static var validatedInScope = false

    public func consistentReads<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        _ = try await validate()
        return try await Self.$validatedInScope.withValue(true) { try await body() }
    }

    /// Brings the cache up to date with every commit so far; returns the epoch to fill under.
    func validate() async throws -> UInt64 {
        if Self.validatedInScope { return cache.epoch }
        let since = cache.generation
        // One statement, so the generation and the scopes come from one snapshot.
        let row = try await withConnection { [logger] c -> (Int64, Int64, [String]?)? in
            let rows = try await c.query(
                """
                SELECT g.value, p.value,
                       (SELECT array_agg(scope) FROM changes WHERE \(since) >= 0 AND generation > \(since) AND generation <= g.value)
                FROM meta g, meta p WHERE g.key = 'generation' AND p.key = 'pruned_through'
                """, logger: logger)
            for try await row in rows.decode((Int64, Int64, [String]?).self) { return row }
            return nil
        }
        guard let (generation, pruned, scopes) = row else { return cache.epoch }
        // Behind the pruned log, or never synchronised: the log cannot say, so clear all.
        let known = since >= 0 && since >= pruned
        return cache.catchUp(to: generation, changes: known ? (scopes ?? []) : nil)
    }

    /// Called inside every transaction that changes cached data.
    static func record(_ tx: PostgresConnection, _ scopes: [ReadCache.Scope], logger: Logger) async throws {
        var generation: Int64 = 0
        for try await value in try await tx.query(
            "UPDATE meta SET value = value + 1 WHERE key = 'generation' RETURNING value", logger: logger
        )
        .decode(Int64.self) { generation = value }
        try await tx.query(
            "INSERT INTO changes (generation, scope) SELECT \(generation), unnest(\(scopes.map(\.text))::text[])", logger: logger)
        if let through = ReadCache.pruneThrough(afterWriting: generation) {
            try await tx.query("DELETE FROM changes WHERE generation <= \(through)", logger: logger)
            try await tx.query("UPDATE meta SET value = \(through) WHERE key = 'pruned_through'", logger: logger)
        }
    }
}
