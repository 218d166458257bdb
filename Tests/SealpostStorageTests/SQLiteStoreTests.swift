import Foundation
import GRDB
import Testing
@testable import SealpostSettings
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
    @Test func newUsersStartWithDefaultSettings() async throws {
        let db = try TempDatabase(); defer { db.remove() }
        let store = try SQLiteStore(path: db.path)
        let acme = try await store.createAccount(name: "acme", email: nil)
        let sub = try await store.createSubuser(parentID: acme.id, username: "acme-sub", email: "s@acme.test")
        let cust = try await store.createCustomer(parentID: acme.id, name: "acme-cust")
        for user in [acme, sub, cust] {
            #expect(try await store.enforcedTLS(userID: user.id) == .default)
        }
        #expect(sub.kind == .subuser && sub.parentID == acme.id)
        #expect(cust.kind == .customer && cust.parentID == acme.id)
        #expect(try await store.user(named: "acme-sub") == sub)
        #expect(try await store.user(id: cust.id) == cust)
    }

    @Test func namesAreUniqueAcrossKinds() async throws {
        let db = try TempDatabase(); defer { db.remove() }
        let store = try SQLiteStore(path: db.path)
        let acme = try await store.createAccount(name: "acme", email: nil)
        await #expect(throws: StoreError.nameTaken("acme")) { try await store.createAccount(name: "acme", email: nil) }
        await #expect(throws: StoreError.nameTaken("acme")) { try await store.createSubuser(parentID: acme.id, username: "acme", email: nil) }
        _ = try await store.createSubuser(parentID: acme.id, username: "s1", email: nil)
        await #expect(throws: StoreError.nameTaken("s1")) { try await store.createCustomer(parentID: acme.id, name: "s1") }
    }

    @Test func onlyParentAccountsOwnSubusersAndCustomers() async throws {
        let db = try TempDatabase(); defer { db.remove() }
        let store = try SQLiteStore(path: db.path)
        let acme = try await store.createAccount(name: "acme", email: nil)
        let sub = try await store.createSubuser(parentID: acme.id, username: "s1", email: nil)
        await #expect(throws: StoreError.notAParent("s1")) { try await store.createSubuser(parentID: sub.id, username: "s2", email: nil) }
        await #expect(throws: StoreError.notFound("parent account 999")) { try await store.createCustomer(parentID: 999, name: "c") }
    }

    @Test func lookupsAreScopedToTheParent() async throws {
        let db = try TempDatabase(); defer { db.remove() }
        let store = try SQLiteStore(path: db.path)
        let acme = try await store.createAccount(name: "acme", email: nil)
        let globex = try await store.createAccount(name: "globex", email: nil)
        let acmeSub = try await store.createSubuser(parentID: acme.id, username: "acme-sub", email: nil)
        let globexCust = try await store.createCustomer(parentID: globex.id, name: "globex-cust")
        #expect(try await store.subuser(parentID: acme.id, username: "acme-sub") == acmeSub)
        #expect(try await store.subuser(parentID: globex.id, username: "acme-sub") == nil)
        #expect(try await store.customer(parentID: globex.id, id: globexCust.id) == globexCust)
        #expect(try await store.customer(parentID: acme.id, id: globexCust.id) == nil)
        // A subuser is not a customer account even under the right parent.
        #expect(try await store.customer(parentID: acme.id, id: acmeSub.id) == nil)
        #expect(try await store.subusers(parentID: acme.id, username: nil, limit: 10, offset: 0) == [acmeSub])
        #expect(try await store.subusers(parentID: globex.id, username: nil, limit: 10, offset: 0).isEmpty)
    }

    @Test func updatesArePartialAndAudited() async throws {
        let db = try TempDatabase(); defer { db.remove() }
        let store = try SQLiteStore(path: db.path)
        let acme = try await store.createAccount(name: "acme", email: nil)
        let actor = AuditActor(keyID: "k1", onBehalfOf: nil, via: "api")
        let first = try await store.updateEnforcedTLS(userID: acme.id, patch: EnforcedTLSPatch(requireTLS: true), actor: actor)
        #expect(first.old == .default)
        #expect(first.new == EnforcedTLSSettings(requireTLS: true, requireValidCert: false, version: .v1_1))
        let second = try await store.updateEnforcedTLS(
            userID: acme.id, patch: EnforcedTLSPatch(version: .v1_3),
            actor: AuditActor(keyID: "k2", onBehalfOf: "acme-sub", via: "api"))
        #expect(second.new == EnforcedTLSSettings(requireTLS: true, requireValidCert: false, version: .v1_3))
        #expect(try await store.enforcedTLS(userID: acme.id) == second.new)

        let trail = try await store.auditEntries(userID: acme.id)
        #expect(trail.count == 2)
        #expect(trail[0].old == .default && trail[0].new == first.new && trail[0].actor == actor)
        #expect(trail[1].old == first.new && trail[1].new == second.new && trail[1].actor.onBehalfOf == "acme-sub")
        #expect(trail.allSatisfy { $0.userName == "acme" })
        #expect(try await store.auditEntries(userID: nil).count == 2)
    }

    @Test func concurrentPatchesAreSerialized() async throws {
        let db = try TempDatabase(); defer { db.remove() }
        let store = try SQLiteStore(path: db.path)
        let acme = try await store.createAccount(name: "acme", email: nil)
        let actor = AuditActor(keyID: nil, onBehalfOf: nil, via: "test")
        // Each update reads and writes in one transaction, so no update is lost: the audit
        // trail is a chain where each entry's old value is the previous entry's new value.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<50 {
                group.addTask {
                    let patch = i % 2 == 0 ? EnforcedTLSPatch(requireTLS: i % 4 == 0) : EnforcedTLSPatch(version: TLSVersion.allCases[i % 3])
                    _ = try await store.updateEnforcedTLS(userID: acme.id, patch: patch, actor: actor)
                }
            }
            try await group.waitForAll()
        }
        let trail = try await store.auditEntries(userID: acme.id)
        #expect(trail.count == 50)
        for (previous, next) in zip(trail, trail.dropFirst()) { #expect(next.old == previous.new) }
        #expect(try await store.enforcedTLS(userID: acme.id) == trail.last?.new)
    }

    @Test func keysStoreOnlyAHashAndRevokeAtOnce() async throws {
        let db = try TempDatabase(); defer { db.remove() }
        let store = try SQLiteStore(path: db.path)
        let acme = try await store.createAccount(name: "acme", email: nil)
        let globex = try await store.createAccount(name: "globex", email: nil)
        let (token, key) = try await store.issueKey(userID: acme.id, name: "ci", grant: .scopes([Scope.enforcedTLSRead]))
        let (fullToken, _) = try await store.issueKey(userID: acme.id, name: "admin", grant: .fullAccess)

        let found = try #require(try await store.keyWithUser(id: token.id))
        #expect(found.0 == key && found.1 == acme)
        #expect(token.matches(storedHash: found.0.secretHash))
        #expect(try await store.keyWithUser(id: fullToken.id)?.0.grant == .fullAccess)
        #expect(try await store.keys(userID: acme.id).map(\.name) == ["ci", "admin"])

        // The secret never reaches the file.
        let raw = try Data(contentsOf: URL(fileURLWithPath: db.path)) + ((try? Data(contentsOf: URL(fileURLWithPath: db.path + "-wal"))) ?? Data())
        #expect(raw.range(of: Data(token.secret.utf8)) == nil)

        #expect(try await store.revokeKey(id: token.id, userID: globex.id) == false, "another tenant cannot revoke it")
        #expect(try await store.revokeKey(id: token.id, userID: acme.id))
        #expect(try await store.revokeKey(id: token.id, userID: nil) == false, "already revoked")
        #expect(try await store.keyWithUser(id: token.id)?.0.revokedAt != nil)
        #expect(try await store.keys(userID: acme.id).map(\.name) == ["admin"])
    }

    @Test func dataSurvivesReopening() async throws {
        let db = try TempDatabase(); defer { db.remove() }
        do {
            let store = try SQLiteStore(path: db.path)
            let acme = try await store.createAccount(name: "acme", email: nil)
            _ = try await store.updateEnforcedTLS(userID: acme.id, patch: EnforcedTLSPatch(requireValidCert: true, version: .v1_2),
                                                  actor: AuditActor(keyID: nil, onBehalfOf: nil, via: "test"))
        }
        let reopened = try SQLiteStore(path: db.path)
        let acme = try #require(try await reopened.user(named: "acme"))
        #expect(try await reopened.enforcedTLS(userID: acme.id) == EnforcedTLSSettings(requireTLS: false, requireValidCert: true, version: .v1_2))
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

    @Test func usesWALAndFullSync() async throws {
        let db = try TempDatabase(); defer { db.remove() }
        let store = try SQLiteStore(path: db.path)
        let (mode, sync) = try await store.pool.write { db in
            (try String.fetchOne(db, sql: "PRAGMA journal_mode"), try Int.fetchOne(db, sql: "PRAGMA synchronous"))
        }
        #expect(mode == "wal")
        #expect(sync == 2, "synchronous = FULL")
    }
}
