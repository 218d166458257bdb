import Foundation
import Testing
@testable import SealpostSettings
@testable import SealpostStorage

/// The read cache must never serve data older than the last commit, whoever made it.
@Suite struct SQLiteCacheTests {
    let actor = AuditActor(keyID: nil, onBehalfOf: nil, via: "test")

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
