import Foundation
import Testing
@testable import SealpostSettings
@testable import SealpostStorage

/// The read cache must never serve data older than the last commit, whoever made it.
@Suite struct SQLiteCacheTests {
    let actor = AuditActor(keyID: nil, onBehalfOf: nil, via: "test")

    @Test func anotherConnectionsCommitsAreSeenAtOnce() async throws {
        let db = try TempDatabase(); defer { db.remove() }
        let server = try SQLiteStore(path: db.path)
        let cli = try SQLiteStore(path: db.path)  // stands for the admin CLI: another writer on the same file
        let acme = try await server.createAccount(name: "acme", email: nil)
        let (token, _) = try await server.issueKey(userID: acme.id, name: "k", grant: .fullAccess)

        // Warm the server's cache.
        #expect(try await server.keyWithUser(id: token.id)?.0.revokedAt == nil)
        #expect(try await server.enforcedTLS(userID: acme.id) == .default)
        #expect(try await server.subuser(parentID: acme.id, username: "late") == nil)

        #expect(try await cli.revokeKey(id: token.id, userID: nil))
        _ = try await cli.updateEnforcedTLS(userID: acme.id, patch: EnforcedTLSPatch(requireTLS: true), actor: actor)
        let late = try await cli.createSubuser(parentID: acme.id, username: "late", email: nil)

        #expect(try await server.keyWithUser(id: token.id)?.0.revokedAt != nil, "revocation by another process applies at once")
        #expect(try await server.enforcedTLS(userID: acme.id).requireTLS)
        #expect(try await server.subuser(parentID: acme.id, username: "late") == late, "a cached miss is forgotten too")
    }

    @Test func ownWritesKeepTheCacheExact() async throws {
        let db = try TempDatabase(); defer { db.remove() }
        let store = try SQLiteStore(path: db.path)
        let other = try SQLiteStore(path: db.path)
        let acme = try await store.createAccount(name: "acme", email: nil)
        let globex = try await store.createAccount(name: "globex", email: nil)
        for i in 0..<20 {
            let patch = EnforcedTLSPatch(requireTLS: i % 2 == 0, version: TLSVersion.allCases[i % 3])
            let (_, new) = try await store.updateEnforcedTLS(userID: acme.id, patch: patch, actor: actor)
            #expect(try await store.enforcedTLS(userID: acme.id) == new)
            #expect(try await other.enforcedTLS(userID: acme.id) == new)
            if i == 10 {
                // A foreign write in the middle: both users' cached values must be refreshed.
                _ = try await other.updateEnforcedTLS(userID: globex.id, patch: EnforcedTLSPatch(requireValidCert: true), actor: actor)
                #expect(try await store.enforcedTLS(userID: globex.id).requireValidCert)
            }
        }
    }

    @Test func oneBadChangeDoesNotFailItsBatch() async throws {
        let db = try TempDatabase(); defer { db.remove() }
        let store = try SQLiteStore(path: db.path)
        let acme = try await store.createAccount(name: "acme", email: nil)
        let results = await withTaskGroup(of: Bool.self) { group in
            for i in 0..<40 {
                group.addTask {
                    let user = i % 5 == 0 ? Int64(999_999) : acme.id
                    return (try? await store.updateEnforcedTLS(userID: user, patch: EnforcedTLSPatch(requireTLS: true), actor: actor)) != nil
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.filter { $0 }.count == 32)
        #expect(try await store.auditEntries(userID: acme.id).count == 32)
    }
}
