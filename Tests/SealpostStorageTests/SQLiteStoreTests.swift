import Foundation
import GRDB
import Testing

@testable import SealpostCore
@testable import SealpostSQLite
@testable import SealpostStorage

/// A fresh database file per test, removed afterwards.
struct TempDatabase {
    let directory: URL
    var path: String { directory.appendingPathComponent("sealpost.sqlite").path }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("sealpost-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}

@Suite struct SQLiteStoreTests {
    @Test func theSecretNeverReachesTheFile() async throws {
        let db = try TempDatabase(); defer { db.remove() }
        let store = try SQLiteStore(path: db.path)
        let acme = try await store.createAccount(name: "acme", email: nil)
        let (token, _) = try await store.issueKey(userID: acme.id, name: "ci", grant: .fullAccess)
        let raw =
            try Data(contentsOf: URL(fileURLWithPath: db.path))
            + ((try? Data(contentsOf: URL(fileURLWithPath: db.path + "-wal"))) ?? Data())
        #expect(raw.range(of: Data(token.secret.utf8)) == nil)
    }

    @Test func knowsExactlyTheSharedMigrations() throws {
        #expect(SQLiteMigrations.migrator.migrations == Schema.migrations)
    }

    @Test func refusesASchemaNewerThanItKnows() async throws {
        let db = try TempDatabase(); defer { db.remove() }
        do {
            let store = try SQLiteStore(path: db.path)
            try await store.pool.write { db in
                try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v99-from-the-future')")
            }
        }
        #expect(throws: StoreError.self) { try SQLiteStore(path: db.path) }
    }

    /// v16 counts SendGrid's metrics of the events stored before it into the stats counters.
    @Test func theStatsMigrationCountsTheEventsAlreadyStored() async throws {
        let db = try TempDatabase(); defer { db.remove() }
        do {
            let queue = try DatabaseQueue(path: db.path)
            try SQLiteMigrations.migrator.migrate(queue, upTo: "v15-tlsrpt")
            try await queue.write { db in
                let t = 20_000 * 86_400 + 5
                for (i, (event, extra)) in [
                    ("processed", ""), ("processed", ""), ("dropped", #","reason":"Unsubscribed Address""#), ("delivered", ""),
                    ("bounce", #","type":"blocked""#), ("bounce", #","type":"bounce""#), ("deferred", ""), ("open", ""),
                ].enumerated() {
                    try db.execute(
                        sql:
                            "INSERT INTO events (user_id, sg_event_id, event, email, payload, created_at) VALUES (7, ?, ?, 'a@x.test', ?, 0)",
                        arguments: ["e\(i)", event, #"{"event":"\#(event)","timestamp":\#(t)\#(extra)}"#])
                }
            }
        }
        let store = try SQLiteStore(path: db.path)
        let counts = try await store.statCounts(userID: 7, fromDay: 20_000, toDay: 20_000)
        #expect(
            Dictionary(uniqueKeysWithValues: counts.map { ($0.metric, $0.count) }) == [
                "requests": 3, "processed": 2, "unsubscribe_drops": 1, "delivered": 1, "blocks": 1, "bounces": 1, "deferred": 1,
            ])
    }

    @Test func usesWALAndFullSync() async throws {
        let db = try TempDatabase(); defer { db.remove() }
        let store = try SQLiteStore(path: db.path)
        let (mode, sync) = try await store.pool.write { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA synchronous"))
        }
        #expect(mode == "wal")
        #expect(sync == 2, "synchronous = FULL")
    }

    /// The cache's fast path: while nothing commits, a request reads the wal-index header and
    /// asks SQLite nothing; any commit, by this store or another connection to the file, moves
    /// the header, and the next request asks SQLite again and sees the change.
    @Test func theCacheAsksSQLiteOnlyAfterACommit() async throws {
        let db = try TempDatabase(); defer { db.remove() }
        let server = try SQLiteStore(path: db.path)
        #expect(server.cache.readsWALIndex, "the wal-index of a WAL database on the unix VFS is mapped")
        let acme = try await server.createAccount(name: "acme", email: nil)
        #expect(try await server.enforcedTLS(userID: acme.id) == .default)

        let before = server.cache.probes.load(ordering: .relaxed)
        for _ in 0..<50 { #expect(try await server.enforcedTLS(userID: acme.id) == .default) }
        #expect(server.cache.probes.load(ordering: .relaxed) == before, "no commit, no question to SQLite")

        // A plain connection that is not a SQLiteStore: the header is SQLite's, not ours.
        let other = try DatabaseQueue(path: db.path)
        try await other.write { db in
            try db.execute(sql: "UPDATE enforced_tls SET require_tls = 1 WHERE user_id = ?", arguments: [acme.id])
            try SQLiteCache.record(db, [.settings(acme.id)])
        }
        #expect(try await server.enforcedTLS(userID: acme.id).requireTLS, "another connection's commit is seen at once")
        #expect(server.cache.probes.load(ordering: .relaxed) == before + 1)
        #expect(try await server.enforcedTLS(userID: acme.id).requireTLS)
        #expect(server.cache.probes.load(ordering: .relaxed) == before + 1, "caught up: the fast path again")

        // A commit that changes nothing the cache holds still moves the header: one question.
        try await other.write { db in try db.execute(sql: "CREATE TABLE unrelated (x)") }
        #expect(try await server.enforcedTLS(userID: acme.id).requireTLS)
        #expect(server.cache.probes.load(ordering: .relaxed) == before + 2)
    }
}

/// The change-log pruning rule both backends apply in their write transactions.
@Suite struct ChangeLogRuleTests {
    @Test func prunesEveryThousandthGenerationBeyondTheLogLength() {
        #expect(ReadCache.pruneThrough(afterWriting: 1_000) == nil)
        #expect(ReadCache.pruneThrough(afterWriting: 10_000) == nil)
        #expect(ReadCache.pruneThrough(afterWriting: 11_000) == 1_000)
        #expect(ReadCache.pruneThrough(afterWriting: 11_001) == nil)
        #expect(ReadCache.pruneThrough(afterWriting: 25_000) == 15_000)
    }
}

/// The group commit's fold, shared by both backends: changes apply in arrival order, each on
/// the result of the earlier ones for the same user; an unknown user fails alone.
@Suite struct SettingsBatchTests {
    @Test func changesApplyInOrderAndUnknownUsersFailAlone() {
        let actor = AuditActor(keyID: "k", onBehalfOf: nil, via: "api")
        let changes = [
            SettingsChange(userID: 2, patch: EnforcedTLSPatch(requireTLS: true), actor: actor),
            SettingsChange(userID: 9, patch: EnforcedTLSPatch(requireTLS: true), actor: actor),
            SettingsChange(userID: 2, patch: EnforcedTLSPatch(version: .v1_3), actor: actor),
            SettingsChange(userID: 1, patch: EnforcedTLSPatch(requireValidCert: true), actor: actor),
        ]
        #expect(SettingsBatch.userIDs(changes) == [1, 2, 9])
        let batch = SettingsBatch.fold(changes, current: [1: .default, 2: .default])
        let tls = EnforcedTLSSettings(requireTLS: true, requireValidCert: false, version: .v1_1)
        let tls13 = EnforcedTLSSettings(requireTLS: true, requireValidCert: false, version: .v1_3)
        let valid = EnforcedTLSSettings(requireTLS: false, requireValidCert: true, version: .v1_1)
        #expect(batch.final == [2: tls13, 1: valid])
        #expect(batch.applied.map { [$0.change.userID] } == [[2], [2], [1]])
        #expect(batch.applied.map(\.old) == [.default, tls, .default])
        #expect(batch.applied.map(\.new) == [tls, tls13, valid])
        #expect((try? batch.results[1].get()) == nil)
        #expect((try? batch.results[2].get())?.new == tls13)
    }
}
