import Foundation
import Testing

@testable import SealpostCore
@testable import SealpostPostgres
@testable import SealpostSQLite
@testable import SealpostStorage

/// The storage contract: every test here runs against SQLite and PostgreSQL alike.
@Suite struct StoreContractTests {
    @Test(arguments: Backend.available) func newUsersStartWithDefaultSettings(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
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
    }

    @Test(arguments: Backend.available) func namesAreUniqueAcrossKinds(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            let acme = try await store.createAccount(name: "acme", email: nil)
            await #expect(throws: StoreError.nameTaken("acme")) { try await store.createAccount(name: "acme", email: nil) }
            await #expect(throws: StoreError.nameTaken("acme")) {
                try await store.createSubuser(parentID: acme.id, username: "acme", email: nil)
            }
            _ = try await store.createSubuser(parentID: acme.id, username: "s1", email: nil)
            await #expect(throws: StoreError.nameTaken("s1")) { try await store.createCustomer(parentID: acme.id, name: "s1") }
        }
    }

    @Test(arguments: Backend.available) func onlyParentAccountsOwnSubusersAndCustomers(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            let acme = try await store.createAccount(name: "acme", email: nil)
            let sub = try await store.createSubuser(parentID: acme.id, username: "s1", email: nil)
            await #expect(throws: StoreError.notAParent("s1")) {
                try await store.createSubuser(parentID: sub.id, username: "s2", email: nil)
            }
            await #expect(throws: StoreError.notFound("parent account 999")) { try await store.createCustomer(parentID: 999, name: "c") }
        }
    }

    @Test(arguments: Backend.available) func lookupsAreScopedToTheParent(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
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
    }

    @Test(arguments: Backend.available) func updatesArePartialAndAudited(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
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
    }

    @Test(arguments: Backend.available) func concurrentPatchesAreSerialized(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            let acme = try await store.createAccount(name: "acme", email: nil)
            let actor = AuditActor(keyID: nil, onBehalfOf: nil, via: "test")
            // Each update reads and writes in one transaction, so no update is lost: the audit
            // trail is a chain where each entry's old value is the previous entry's new value.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<50 {
                    group.addTask {
                        let patch =
                            i % 2 == 0 ? EnforcedTLSPatch(requireTLS: i % 4 == 0) : EnforcedTLSPatch(version: TLSVersion.allCases[i % 3])
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
    }

    @Test(arguments: Backend.available) func keysStoreOnlyAHashAndRevokeAtOnce(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            let acme = try await store.createAccount(name: "acme", email: nil)
            let globex = try await store.createAccount(name: "globex", email: nil)
            let (token, key) = try await store.issueKey(userID: acme.id, name: "ci", grant: .scopes([Scope.enforcedTLSRead]))
            let (fullToken, _) = try await store.issueKey(userID: acme.id, name: "admin", grant: .fullAccess)

            let found = try #require(try await store.keyWithUser(id: token.id))
            #expect(found.0 == key && found.1 == acme)
            #expect(token.matches(storedHash: found.0.secretHash))
            #expect(try await store.keyWithUser(id: fullToken.id)?.0.grant == .fullAccess)
            #expect(try await store.keys(userID: acme.id).map(\.name) == ["ci", "admin"])

            #expect(try await store.revokeKey(id: token.id, userID: globex.id) == false, "another tenant cannot revoke it")
            #expect(try await store.revokeKey(id: token.id, userID: acme.id))
            #expect(try await store.revokeKey(id: token.id, userID: nil) == false, "already revoked")
            #expect(try await store.keyWithUser(id: token.id)?.0.revokedAt != nil)
            #expect(try await store.keys(userID: acme.id).map(\.name) == ["admin"])
        }
    }

    @Test(arguments: Backend.available) func dataSurvivesReopening(backend: Backend) async throws {
        try await withStore(backend) { store, db in
            let acme = try await store.createAccount(name: "acme", email: nil)
            _ = try await store.updateEnforcedTLS(
                userID: acme.id, patch: EnforcedTLSPatch(requireValidCert: true, version: .v1_2),
                actor: AuditActor(keyID: nil, onBehalfOf: nil, via: "test"))
            let reopened = try await db.open()
            let found = try #require(try await reopened.user(named: "acme"))
            #expect(
                try await reopened.enforcedTLS(userID: found.id)
                    == EnforcedTLSSettings(requireTLS: false, requireValidCert: true, version: .v1_2))
            reopened.close()
        }
    }

    // MARK: Read cache: never older than the last commit, whoever made it

    @Test(arguments: Backend.available) func anotherProcesssCommitsAreSeenAtOnce(backend: Backend) async throws {
        try await withStore(backend) { server, db in
            let cli = try await db.open()  // another process on the same database: the admin CLI, or another node
            defer { cli.close() }
            let actor = AuditActor(keyID: nil, onBehalfOf: nil, via: "test")
            let acme = try await server.createAccount(name: "acme", email: nil)
            let (token, _) = try await server.issueKey(userID: acme.id, name: "k", grant: .fullAccess)
            let unknown = "nosuchkey0000000000000"

            // Warm the server's cache, misses included.
            #expect(try await server.keyWithUser(id: token.id)?.0.revokedAt == nil)
            #expect(try await server.keyWithUser(id: unknown) == nil)
            #expect(try await server.enforcedTLS(userID: acme.id) == .default)
            #expect(try await server.subuser(parentID: acme.id, username: "late") == nil)

            #expect(try await cli.revokeKey(id: token.id, userID: nil))
            _ = try await cli.updateEnforcedTLS(userID: acme.id, patch: EnforcedTLSPatch(requireTLS: true), actor: actor)
            let late = try await cli.createSubuser(parentID: acme.id, username: "late", email: nil)
            try await cli.insertKey(
                StoredAPIKey(id: unknown, userID: acme.id, name: "new", grant: .fullAccess, secretHash: [1, 2], createdAt: Date()))

            #expect(try await server.keyWithUser(id: token.id)?.0.revokedAt != nil, "revocation by another process applies at once")
            #expect(try await server.enforcedTLS(userID: acme.id).requireTLS)
            #expect(try await server.subuser(parentID: acme.id, username: "late") == late, "a cached miss is forgotten too")
            #expect(try await server.keyWithUser(id: unknown)?.0.name == "new")
        }
    }

    @Test(arguments: Backend.available) func ownAndForeignWritesKeepTheCacheExact(backend: Backend) async throws {
        try await withStore(backend) { store, db in
            let other = try await db.open()
            defer { other.close() }
            let actor = AuditActor(keyID: nil, onBehalfOf: nil, via: "test")
            let acme = try await store.createAccount(name: "acme", email: nil)
            let globex = try await store.createAccount(name: "globex", email: nil)
            #expect(try await store.enforcedTLS(userID: globex.id) == .default)
            for i in 0..<20 {
                let patch = EnforcedTLSPatch(requireTLS: i % 2 == 0, version: TLSVersion.allCases[i % 3])
                let (_, new) = try await store.updateEnforcedTLS(userID: acme.id, patch: patch, actor: actor)
                #expect(try await store.enforcedTLS(userID: acme.id) == new)
                #expect(try await other.enforcedTLS(userID: acme.id) == new)
                if i == 10 {
                    // A foreign write in the middle: the other user's cached value must be refreshed.
                    _ = try await other.updateEnforcedTLS(userID: globex.id, patch: EnforcedTLSPatch(requireValidCert: true), actor: actor)
                    #expect(try await store.enforcedTLS(userID: globex.id).requireValidCert)
                }
            }
        }
    }

    @Test(arguments: Backend.available) func oneBadChangeDoesNotFailItsGroupCommit(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            let actor = AuditActor(keyID: nil, onBehalfOf: nil, via: "test")
            let acme = try await store.createAccount(name: "acme", email: nil)
            let results = await withTaskGroup(of: Bool.self) { group in
                for i in 0..<40 {
                    group.addTask {
                        let user = i % 5 == 0 ? Int64(999_999) : acme.id
                        return
                            (try? await store.updateEnforcedTLS(userID: user, patch: EnforcedTLSPatch(requireTLS: i % 2 == 0), actor: actor))
                            != nil
                    }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(results.filter { $0 }.count == 32)
            let trail = try await store.auditEntries(userID: acme.id)
            #expect(trail.count == 32)
            for (previous, next) in zip(trail, trail.dropFirst()) { #expect(next.old == previous.new) }
        }
    }

    // MARK: Queue

    static func message(_ id: String, userID: Int64, to recipients: [String], notBefore: Date = .distantPast) -> NewMessage {
        NewMessage(
            id: id, xMessageID: "x-\(id)", userID: userID, mailFrom: "from@acme.test", smtpID: "<\(id)@acme.test>",
            content: Array("Subject: \(id)\r\n\r\nbody\r\n".utf8), categories: ["c"], customArgs: ["k": "v"],
            recipients: recipients, notBefore: notBefore)
    }

    static func event(_ userID: Int64, _ id: String, _ type: String, _ email: String) -> EventRecord {
        EventRecord(userID: userID, sgEventID: id, event: type, email: email, payload: #"{"event":"\#(type)","sg_event_id":"\#(id)"}"#)
    }

    /// Per-domain entries: created, replaced, listed by domain, deleted, each change audited with
    /// its old and new value; the engine's cached read sees every change at once; other users'
    /// entries are apart.
    @Test(arguments: Backend.available) func mtaSTSPoliciesAreCachedAndReplaced(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            #expect(try await store.cachedMTASTSPolicy(domain: "a.test") == nil)
            // whole seconds: both backends store seconds as doubles, compared exactly here
            let t = Date(timeIntervalSince1970: 1_800_000_000)
            let first = CachedMTASTSPolicy(
                domain: "a.test", id: "id1", text: "version: STSv1\r\nmode: enforce\r\nmx: mx.a.test\r\nmax_age: 60\r\n", fetchedAt: t,
                expiresAt: t + 60)
            try await store.saveMTASTSPolicy(first)
            #expect(try await store.cachedMTASTSPolicy(domain: "a.test") == first)
            var second = first
            second.id = "id2"
            second.text = "version: STSv1\nmode: testing\nmx: *.a.test\nmax_age: 86400\n"
            second.expiresAt = t + 86400
            try await store.saveMTASTSPolicy(second)
            #expect(try await store.cachedMTASTSPolicy(domain: "a.test") == second)
            #expect(try await store.cachedMTASTSPolicy(domain: "b.test") == nil)
        }
    }

    @Test(arguments: Backend.available) func domainEntriesAreStoredAuditedAndSeenAtOnce(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            let acme = try await store.createAccount(name: "acme", email: nil)
            let other = try await store.createAccount(name: "other", email: nil)
            let actor = AuditActor(keyID: "k1", onBehalfOf: "account-id 9", via: "api")
            let tls12 = EnforcedTLSSettings(requireTLS: true, requireValidCert: false, version: .v1_2)
            let verify = EnforcedTLSSettings(requireTLS: true, requireValidCert: true, version: .v1_3)
            #expect(try await store.domainTLSEntries(userID: acme.id).isEmpty)
            #expect(
                try await store.putDomainTLSEntry(userID: acme.id, DomainTLSEntry(domain: "b.test", settings: tls12), actor: actor) == nil)
            #expect(try await store.domainTLSEntries(userID: acme.id) == [DomainTLSEntry(domain: "b.test", settings: tls12)])
            _ = try await store.putDomainTLSEntry(userID: acme.id, DomainTLSEntry(domain: ".a.test", settings: .default), actor: actor)
            let replaced = try await store.putDomainTLSEntry(
                userID: acme.id, DomainTLSEntry(domain: "b.test", settings: verify), actor: actor)
            #expect(replaced == DomainTLSEntry(domain: "b.test", settings: tls12))
            #expect(try await store.domainTLSEntries(userID: acme.id).map(\.domain) == [".a.test", "b.test"])
            #expect(try await store.domainTLSEntries(userID: acme.id).last?.settings == verify)
            #expect(try await store.domainTLSEntries(userID: other.id).isEmpty)
            #expect(try await store.deleteDomainTLSEntry(userID: other.id, domain: "b.test", actor: actor) == nil)
            #expect(try await store.deleteDomainTLSEntry(userID: acme.id, domain: "b.test", actor: actor)?.settings == verify)
            #expect(try await store.deleteDomainTLSEntry(userID: acme.id, domain: "b.test", actor: actor) == nil)
            #expect(try await store.domainTLSEntries(userID: acme.id).map(\.domain) == [".a.test"])
            let trail = try await store.domainAuditEntries(userID: acme.id)
            #expect(trail.map(\.domain) == ["b.test", ".a.test", "b.test", "b.test"])
            #expect(trail.map(\.old) == [nil, nil, tls12, verify])
            #expect(trail.map(\.new) == [tls12, .default, verify, nil])
            #expect(trail.allSatisfy { $0.actor == actor })
            #expect(try await store.domainAuditEntries(userID: other.id).isEmpty)
            await #expect(throws: StoreError.self) {
                _ = try await store.putDomainTLSEntry(userID: 999_999, DomainTLSEntry(domain: "b.test", settings: tls12), actor: actor)
            }
        }
    }

    /// Concurrent requests share a transaction; one request's failure (here a duplicate
    /// message id) fails that request alone. The SMTPUTF8 mark is kept with the message.
    @Test(arguments: Backend.available) func concurrentEnqueuesStandOrFallAlone(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            let acme = try await store.createAccount(name: "acme", email: nil)
            try await store.enqueue([Self.message("dup", userID: acme.id, to: ["a@one.test"])], events: [], lifetime: 3600)
            let results = await withTaskGroup(of: (String, Bool).self) { group in
                for id in ["dup"] + (0..<40).map({ "c\($0)" }) {
                    group.addTask {
                        var m = Self.message(id, userID: acme.id, to: ["r-\(id)@one.test"])
                        m.smtpUTF8 = id == "c7"
                        m.requireTLS = id == "c8"
                        do {
                            try await store.enqueue(
                                [m], events: [Self.event(acme.id, "p-\(id)", "processed", "r-\(id)@one.test")], lifetime: 3600)
                            return (id, true)
                        } catch {
                            return (id, false)
                        }
                    }
                }
                var out: [String: Bool] = [:]
                for await (id, ok) in group { out[id] = ok }
                return out
            }
            #expect(results["dup"] == false)
            #expect(results.filter { $0.value }.count == 40)
            let claimed = try await store.claimDeliveries(now: Date(), limit: 100, lease: 60)
            #expect(claimed.count == 41)
            #expect(claimed.filter(\.smtpUTF8).map(\.recipient) == ["r-c7@one.test"])
            #expect(claimed.filter(\.requireTLS).map(\.recipient) == ["r-c8@one.test"], "REQUIRETLS is kept with the message")
            #expect(try await store.events(userID: acme.id, limit: 100).count == 40, "the failed request left no event")
        }
    }

    @Test(arguments: Backend.available) func enqueueClaimAndResolve(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            let acme = try await store.createAccount(name: "acme", email: nil)
            try await store.enqueue(
                [Self.message("m1", userID: acme.id, to: ["a@one.test", "b@Two.test"])],
                events: [Self.event(acme.id, "p1", "processed", "a@one.test")], lifetime: 3600)
            // Not yet due: nothing to claim.
            try await store.enqueue(
                [Self.message("m2", userID: acme.id, to: ["c@one.test"], notBefore: Date().addingTimeInterval(3600))],
                events: [], lifetime: 3600)
            let claimed = try await store.claimDeliveries(now: Date(), limit: 10, lease: 60)
            #expect(claimed.map(\.recipient) == ["a@one.test", "b@Two.test"])
            #expect(claimed.map(\.domain) == ["one.test", "two.test"])
            #expect(
                claimed.allSatisfy {
                    $0.attempts == 1 && $0.content == Array("Subject: m1\r\n\r\nbody\r\n".utf8) && $0.customArgs == ["k": "v"]
                })
            #expect(try await store.claimDeliveries(now: Date(), limit: 10, lease: 60).isEmpty, "leased rows are not claimed twice")

            try await store.resolve([
                DeliveryUpdate(
                    deliveryID: claimed[0].id, resolution: .delivered, result: "250 ok",
                    event: Self.event(acme.id, "d1", "delivered", "a@one.test")),
                DeliveryUpdate(
                    deliveryID: claimed[1].id, resolution: .blocked, result: "TLS required",
                    event: Self.event(acme.id, "b1", "bounce", "b@two.test"),
                    listing: SuppressionListing(
                        .blocks,
                        BlockRecord(
                            userID: acme.id, email: "B@two.test", reason: "TLS required but not supported", status: "5.7.10",
                            created: 1_800_000_000))),
            ])
            #expect(try await store.queueCounts() == ["delivered": 1, "blocked": 1, "queued": 1])
            #expect(try await store.events(userID: acme.id, limit: 10).map(\.sgEventID) == ["p1", "d1", "b1"])
            #expect(try await store.blocks(userID: acme.id, query: BlockQuery()).map(\.email) == ["b@two.test"])
            #expect(try await store.blocks(userID: acme.id, query: BlockQuery(emailPrefix: "b")).count == 1)
            #expect(try await store.blocks(userID: acme.id, query: BlockQuery(emailPrefix: "x")).isEmpty)
            #expect(try await store.blocks(userID: acme.id, query: BlockQuery(startTime: 1_900_000_000)).isEmpty)
            #expect(try await store.deleteBlock(userID: acme.id, email: "b@TWO.test"))
            #expect(try await store.deleteBlock(userID: acme.id, email: "b@two.test") == false)
        }
    }

    @Test(arguments: Backend.available) func twoNodesNeverClaimTheSameDelivery(backend: Backend) async throws {
        try await withStore(backend) { nodeA, db in
            let nodeB = try await db.open()
            defer { nodeB.close() }
            let acme = try await nodeA.createAccount(name: "acme", email: nil)
            let messages = (0..<200).map { Self.message("m\($0)", userID: acme.id, to: ["r\($0)@x.test"]) }
            try await nodeA.enqueue(messages, events: [], lifetime: 3600)
            // Both nodes claim in small batches at the same time until the queue is empty.
            func drain(_ store: any SealpostStore) async throws -> [Int64] {
                var ids: [Int64] = []
                while true {
                    let batch = try await store.claimDeliveries(now: Date(), limit: 7, lease: 60)
                    if batch.isEmpty { return ids }
                    ids += batch.map(\.id)
                }
            }
            async let a = drain(nodeA)
            async let b = drain(nodeB)
            let (fromA, fromB) = try await (a, b)
            #expect(fromA.count + fromB.count == 200)
            #expect(Set(fromA).isDisjoint(with: fromB))
            #expect(Set(fromA + fromB).count == 200)
        }
    }

    @Test(arguments: Backend.available) func anExpiredLeaseIsTakenOverAndTheLateResultIgnored(backend: Backend) async throws {
        try await withStore(backend) { nodeA, db in
            let nodeB = try await db.open()
            defer { nodeB.close() }
            let acme = try await nodeA.createAccount(name: "acme", email: nil)
            try await nodeA.enqueue(
                [Self.message("m1", userID: acme.id, to: ["a@x.test"]), Self.message("m2", userID: acme.id, to: ["b@x.test"])],
                events: [], lifetime: 3600)
            let t0 = Date()
            let byA = try await nodeA.claimDeliveries(now: t0, limit: 10, lease: 30)
            #expect(byA.count == 2)
            // A heartbeat keeps one lease; the other lapses (node A stalled on it).
            #expect(try await nodeA.renewLeases(ids: [byA[0].id], now: t0.addingTimeInterval(20), lease: 30) == 1)
            #expect(try await nodeB.renewLeases(ids: [byA[0].id], now: t0.addingTimeInterval(20), lease: 30) == 0, "only the holder renews")
            let byB = try await nodeB.claimDeliveries(now: t0.addingTimeInterval(31), limit: 10, lease: 30)
            #expect(byB.map(\.id) == [byA[1].id])
            #expect(byB[0].attempts == 2)
            // A's late result for the delivery B took over changes nothing and emits nothing.
            try await nodeA.resolve([
                DeliveryUpdate(
                    deliveryID: byA[1].id, resolution: .delivered, result: "250 late",
                    event: Self.event(acme.id, "late", "delivered", "b@x.test"))
            ])
            try await nodeB.resolve([
                DeliveryUpdate(
                    deliveryID: byB[0].id, resolution: .deferred(until: t0.addingTimeInterval(600)), result: "451 later",
                    event: Self.event(acme.id, "def", "deferred", "b@x.test"))
            ])
            #expect(
                try await nodeB.renewLeases(ids: [byB[0].id], now: t0.addingTimeInterval(40), lease: 30) == 0,
                "a recorded deferral is not leased any more, so the heartbeat cannot delay its retry")
            try await nodeA.resolve([
                DeliveryUpdate(
                    deliveryID: byA[0].id, resolution: .delivered, result: "250 ok",
                    event: Self.event(acme.id, "ok", "delivered", "a@x.test"))
            ])
            #expect(try await nodeA.events(userID: nil, limit: 10).map(\.sgEventID) == ["def", "ok"])
            #expect(try await nodeB.queueCounts() == ["queued": 1, "delivered": 1])
        }
    }

    @Test(arguments: Backend.available) func webhookBatchesAreReservedForOnePoster(backend: Backend) async throws {
        try await withStore(backend) { nodeA, db in
            let nodeB = try await db.open()
            defer { nodeB.close() }
            let acme = try await nodeA.createAccount(name: "acme", email: nil)
            try await nodeA.enqueue([], events: [Self.event(acme.id, "early", "processed", "a@x.test")], lifetime: 60)
            try await nodeA.saveWebhookSettings(
                userID: acme.id,
                WebhookSettings(
                    enabled: true, url: "http://127.0.0.1:9/hook",
                    events: ["delivered": true, "bounce": true]))
            #expect(try await nodeB.webhookSettings(userID: acme.id).wants("delivered"))
            let events = (0..<10).map { Self.event(acme.id, "e\($0)", $0 % 5 == 0 ? "processed" : "delivered", "a@x.test") }
            try await nodeA.enqueue([], events: events, lifetime: 60)

            async let a = nodeA.pendingWebhookBatches(limit: 100)
            async let b = nodeB.pendingWebhookBatches(limit: 100)
            let (batchesA, batchesB) = try await (a, b)
            let idsA = batchesA.flatMap { $0.events.map(\.id) }, idsB = batchesB.flatMap { $0.events.map(\.id) }
            #expect(idsA.count + idsB.count == 8, "the 2 unwanted and the 1 from before enabling are left out")
            #expect(Set(idsA).isDisjoint(with: idsB))
            // Reserved: nobody gets them again until released.
            #expect(try await nodeA.pendingWebhookBatches(limit: 100).isEmpty)
            try await nodeA.releaseWebhookEvents(eventIDs: idsA)
            try await nodeB.markPosted(eventIDs: idsB)
            let again = try await nodeB.pendingWebhookBatches(limit: 100).flatMap { $0.events.map(\.id) }
            #expect(again.sorted() == idsA.sorted())
            try await nodeB.markPosted(eventIDs: again)
            try await nodeB.releaseWebhookEvents(eventIDs: again)
            #expect(try await nodeA.pendingWebhookBatches(limit: 100).isEmpty, "posted events never come back")
        }
    }

    /// The suppression lists: outcomes add bounces (newest reason wins), intake asks which lists
    /// an address is on (blocks never suppress), bulk and single deletes, per user and per list.
    @Test(arguments: Backend.available) func suppressionListsAreKeptPerUserAndList(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            let acme = try await store.createAccount(name: "acme", email: nil)
            let sub = try await store.createSubuser(parentID: acme.id, username: "sub", email: nil)
            try await store.enqueue([Self.message("m1", userID: acme.id, to: ["gone@x.test", "blocked@x.test"])], events: [], lifetime: 60)
            let claimed = try await store.claimDeliveries(now: Date(), limit: 10, lease: 60)
            func record(_ email: String, _ reason: String, _ created: Int) -> BlockRecord {
                BlockRecord(userID: acme.id, email: email, reason: reason, status: "5.1.1", created: created)
            }
            try await store.resolve(
                claimed.map { d in
                    DeliveryUpdate(
                        deliveryID: d.id, resolution: .bounced, result: "550",
                        event: Self.event(acme.id, "e\(d.id)", "bounce", d.recipient),
                        listing: SuppressionListing(
                            d.recipient.hasPrefix("gone") ? .bounces : .blocks, record(d.recipient, "550 first", 10)))
                })
            try await store.addSuppressions(
                userID: acme.id, list: .unsubscribes, [record("Gone@X.test", "", 20), record("u@x.test", "", 21)])
            try await store.addSuppressions(userID: acme.id, list: .invalidEmails, [record("i@nowhere.test", "550 5.1.2", 22)])
            try await store.addSuppressions(userID: sub.id, list: .bounces, [record("sub@x.test", "550", 23)])

            let lists = try await store.suppressingLists(
                userID: acme.id, emails: ["GONE@x.test", "blocked@x.test", "u@x.test", "i@nowhere.test", "sub@x.test", "none@x.test"])
            #expect(lists == ["gone@x.test": [.bounces, .unsubscribes], "u@x.test": [.unsubscribes], "i@nowhere.test": [.invalidEmails]])
            #expect(try await store.suppressingLists(userID: sub.id, emails: ["sub@x.test", "gone@x.test"]) == ["sub@x.test": [.bounces]])
            #expect(
                try await store.suppressions(userID: acme.id, list: .bounces, query: BlockQuery()) == [
                    record("gone@x.test", "550 first", 10)
                ])
            #expect(try await store.blocks(userID: acme.id, query: BlockQuery()).map(\.email) == ["blocked@x.test"])
            #expect(
                try await store.suppressions(userID: acme.id, list: .unsubscribes, query: BlockQuery()).map(\.email) == [
                    "u@x.test", "gone@x.test",
                ])
            // Adding an address again keeps its first entry; deletes are per list.
            try await store.addSuppressions(userID: acme.id, list: .unsubscribes, [record("u@x.test", "", 99)])
            #expect(
                try await store.suppressions(userID: acme.id, list: .unsubscribes, query: BlockQuery(emailPrefix: "u")).map(\.created) == [
                    21
                ])
            #expect(
                try await store.deleteSuppressions(userID: acme.id, list: .unsubscribes, emails: ["GONE@x.test", "missing@x.test"]) == 1)
            #expect(try await store.suppressingLists(userID: acme.id, emails: ["gone@x.test"]) == ["gone@x.test": [.bounces]])
            #expect(try await store.deleteSuppressions(userID: acme.id, list: .bounces, emails: nil) == 1)
            #expect(try await store.suppressingLists(userID: acme.id, emails: ["gone@x.test"]).isEmpty)
            #expect(try await store.suppressingLists(userID: sub.id, emails: ["sub@x.test"]) == ["sub@x.test": [.bounces]])
        }
    }

    /// Authenticated domains: per owner, unique per domain and subdomain, one default, key and
    /// validity updated in place, invisible to other owners.
    @Test(arguments: Backend.available) func authenticatedDomainsAreKeptPerOwner(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            let acme = try await store.createAccount(name: "acme", email: nil)
            let globex = try await store.createAccount(name: "globex", email: nil)
            func domain(_ name: String, owner: Int64, isDefault: Bool = false) -> AuthenticatedDomain {
                AuthenticatedDomain(
                    ownerID: owner, domain: name, subdomain: "", selector: "s1", privateKey: [1, 2, 3], publicKey: "pub-\(name)",
                    isDefault: isDefault, valid: false)
            }
            let a = try await store.createAuthenticatedDomain(domain("example.com", owner: acme.id, isDefault: true))
            let b = try await store.createAuthenticatedDomain(domain("example.net", owner: acme.id, isDefault: true))
            #expect(a.id > 0 && b.id > a.id)
            await #expect(throws: StoreError.nameTaken("example.com")) {
                _ = try await store.createAuthenticatedDomain(domain("example.com", owner: acme.id))
            }
            let g = try await store.createAuthenticatedDomain(domain("example.com", owner: globex.id))
            let mine = try await store.authenticatedDomains(ownerID: acme.id)
            #expect(mine.map(\.domain) == ["example.com", "example.net"])
            #expect(mine.map(\.isDefault) == [false, true], "one default per owner")
            #expect(try await store.authenticatedDomain(id: g.id, ownerID: acme.id) == nil)
            var updated = a
            updated.valid = true
            updated.privateKey = [9, 9]
            updated.selector = "s2"
            #expect(try await store.updateAuthenticatedDomain(updated))
            #expect(try await store.authenticatedDomain(id: a.id, ownerID: nil) == updated)
            var foreign = g
            foreign.ownerID = acme.id
            #expect(try await store.updateAuthenticatedDomain(foreign) == false, "only the owner's own row")
            #expect(try await store.deleteAuthenticatedDomain(id: g.id, ownerID: acme.id) == false)
            #expect(try await store.deleteAuthenticatedDomain(id: g.id, ownerID: globex.id))
            #expect(try await store.authenticatedDomains(ownerID: nil).map(\.id) == [a.id, b.id])
        }
    }

    /// Stats counters: every stored event adds to its user's day counters in the same write
    /// (intake's and delivery's alike), and only there.
    @Test(arguments: Backend.available) func eventsKeepTheStatsCounters(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            let acme = try await store.createAccount(name: "acme", email: nil)
            let other = try await store.createAccount(name: "other", email: nil)
            let day = 20_000
            let now = Date(timeIntervalSince1970: TimeInterval(day * 86_400 + 60))
            let m = Self.message("s1", userID: acme.id, to: ["a@x.test", "b@x.test"])
            let subject = { (to: String) in EventFactory.Subject(m, recipient: to) }
            var events = [
                EventFactory.make("processed", subject("a@x.test"), now: now),
                EventFactory.make("processed", subject("b@x.test"), now: now),
            ]
            events.append(EventFactory.make("dropped", subject("c@x.test"), fields: EventFields(reason: "Bounced Address"), now: now))
            try await store.enqueue([m], events: events, lifetime: 3600)
            try await store.enqueue(
                [Self.message("s2", userID: other.id, to: ["z@x.test"])],
                events: [
                    EventFactory.make(
                        "processed", EventFactory.Subject(Self.message("s2", userID: other.id, to: []), recipient: "z@x.test"), now: now)
                ],
                lifetime: 3600)
            let claimed = try await store.claimDeliveries(now: Date(), limit: 10, lease: 60).filter { $0.userID == acme.id }
            var fields = EventFields(tls: 1, tlsVersion: "1.3")
            fields.tlsLevel = .dane
            let later = now.addingTimeInterval(86_400)  // the next day
            try await store.resolve([
                DeliveryUpdate(
                    deliveryID: claimed[0].id, resolution: .delivered, result: "250",
                    event: EventFactory.make("delivered", EventFactory.Subject(claimed[0]), fields: fields, now: later)),
                DeliveryUpdate(
                    deliveryID: claimed[1].id, resolution: .blocked, result: "blocked",
                    event: EventFactory.make("bounce", EventFactory.Subject(claimed[1]), fields: EventFields(type: "blocked"), now: later)),
            ])
            let counts = try await store.statCounts(userID: acme.id, fromDay: day, toDay: day + 1)
            #expect(
                Set(counts) == [
                    StatCount(userID: acme.id, day: day, metric: "requests", count: 3),
                    StatCount(userID: acme.id, day: day, metric: "processed", count: 2),
                    StatCount(userID: acme.id, day: day, metric: "bounce_drops", count: 1),
                    StatCount(userID: acme.id, day: day + 1, metric: "delivered", count: 1),
                    StatCount(userID: acme.id, day: day + 1, metric: "tls_level:dane", count: 1),
                    StatCount(userID: acme.id, day: day + 1, metric: "tls_version:1.3", count: 1),
                    StatCount(userID: acme.id, day: day + 1, metric: "blocks", count: 1),
                ])
            #expect(try await store.statCounts(userID: acme.id, fromDay: day + 1, toDay: day + 1).count == 4)
            #expect(try await store.statCounts(userID: other.id, fromDay: day, toDay: day).map(\.count) == [1, 1])
        }
    }

    /// TLS reporting: sessions add up per key; a day's report rows are planned once per domain,
    /// leased by one sender at a time (the other node claims nothing), finished only by the
    /// lease holder, retried when due with the served `rua`s kept, and never planned again.
    @Test(arguments: Backend.available) func tlsReportsArePlannedOnceAndLeasedToOneSender(backend: Backend) async throws {
        try await withStore(backend) { nodeA, db in
            let nodeB = try await db.open()
            defer { nodeB.close() }
            let tlsa = TLSRPTPolicy(kind: .tlsa, strings: ["3 1 1 ab"], mxHosts: ["mx.a.test"])
            let fail = TLSRPTSession.Failure(
                resultType: "validation-failure", sendingIP: "127.0.0.1", receivingMX: "mx.a.test", receivingIP: "127.0.0.2",
                reasonCode: "tls-version-too-low")
            try await nodeA.recordTLSRPTSessions([
                TLSRPTSession(day: 100, domain: "a.test", policy: tlsa, failure: nil, sessions: 2),
                TLSRPTSession(day: 100, domain: "a.test", policy: tlsa, failure: fail, sessions: 1),
                TLSRPTSession(day: 100, domain: "b.test", policy: .none, failure: nil, sessions: 1),
            ])
            try await nodeB.recordTLSRPTSessions([TLSRPTSession(day: 100, domain: "a.test", policy: tlsa, failure: nil, sessions: 3)])
            #expect(
                Set(try await nodeB.tlsrptSessions(day: 100, domain: "a.test")) == [
                    TLSRPTSession(day: 100, domain: "a.test", policy: tlsa, failure: nil, sessions: 5),
                    TLSRPTSession(day: 100, domain: "a.test", policy: tlsa, failure: fail, sessions: 1),
                ])
            let t0 = Date(timeIntervalSince1970: 1_000_000)
            try await nodeA.planTLSReports(day: 100, now: t0)
            try await nodeB.planTLSReports(day: 100, now: t0)
            let a = try await nodeA.claimTLSReports(day: 100, now: t0, lease: 60, limit: 10)
            #expect(a.map(\.domain) == ["a.test", "b.test"] && a.allSatisfy { $0.attempts == 1 && $0.done.isEmpty })
            #expect(try await nodeB.claimTLSReports(day: nil, now: t0, lease: 60, limit: 10).isEmpty, "leased to node A")
            #expect(try await !nodeB.finishTLSReport(a[0], .sent(done: []), now: t0), "only the lease holder finishes")
            #expect(try await nodeA.finishTLSReport(a[1], .noReportWanted, now: t0))
            let later = t0.addingTimeInterval(300)
            #expect(
                try await nodeA.finishTLSReport(a[0], .retry(until: later, done: ["https://c.test/r"], error: "HTTP 500"), now: t0))
            #expect(try await nodeB.claimTLSReports(day: 100, now: t0.addingTimeInterval(10), lease: 60, limit: 10).isEmpty, "not due")
            let retry = try await nodeB.claimTLSReports(day: 100, now: later, lease: 60, limit: 10)
            #expect(retry.map(\.domain) == ["a.test"] && retry[0].attempts == 2 && retry[0].done == ["https://c.test/r"])
            #expect(retry[0].reportID == a[0].reportID, "every attempt sends the same report-id")
            #expect(try await nodeB.finishTLSReport(retry[0], .sent(done: ["https://c.test/r", "mailto:x@a.test"]), now: later))
            try await nodeA.planTLSReports(day: 100, now: later)
            #expect(try await nodeA.claimTLSReports(day: nil, now: later.addingTimeInterval(3600), lease: 60, limit: 10).isEmpty)
            let states = try await nodeA.tlsReportStates()
            #expect(states.map { "\($0.day) \($0.domain) \($0.state)" } == ["100 a.test sent", "100 b.test none"])
        }
    }

    /// Delivery findings: the same finding on a day adds up, another finding gets its own row,
    /// days past the retention go, users are apart.
    @Test(arguments: Backend.available) func tlsObservationsAggregatePerDay(backend: Backend) async throws {
        try await withStore(backend) { store, _ in
            let acme = try await store.createAccount(name: "acme", email: nil)
            let other = try await store.createAccount(name: "other", email: nil)
            func o(_ user: Int64, _ domain: String, day: Int, version: String?, messages: Int, last: Int) -> TLSObservation {
                TLSObservation(
                    userID: user, domain: domain, day: day, starttls: version != nil, encrypted: version != nil, tlsVersion: version,
                    certificate: version == nil ? nil : "untrusted", daneAuthenticated: false, messages: messages, lastSeen: last)
            }
            try await store.recordTLSObservations([
                o(acme.id, "a.test", day: 100, version: "1.3", messages: 2, last: 8_640_010),
                o(acme.id, "b.test", day: 100, version: nil, messages: 1, last: 8_640_020),
                o(other.id, "a.test", day: 100, version: "1.3", messages: 7, last: 8_640_030),
            ])
            try await store.recordTLSObservations([
                o(acme.id, "a.test", day: 100, version: "1.3", messages: 3, last: 8_640_005),
                o(acme.id, "a.test", day: 100, version: "1.2", messages: 1, last: 8_640_040),
            ])
            let mine = try await store.tlsObservations(userID: acme.id, sinceDay: 0)
            #expect(
                Set(mine) == [
                    o(acme.id, "a.test", day: 100, version: "1.3", messages: 5, last: 8_640_010),
                    o(acme.id, "a.test", day: 100, version: "1.2", messages: 1, last: 8_640_040),
                    o(acme.id, "b.test", day: 100, version: nil, messages: 1, last: 8_640_020),
                ])
            #expect(try await store.tlsObservations(userID: nil, sinceDay: 0).count == 4)
            #expect(try await store.tlsObservations(userID: acme.id, sinceDay: 101).isEmpty)
            // A day beyond the retention: day 100 is dropped.
            try await store.recordTLSObservations([
                o(acme.id, "c.test", day: 100 + TLSObservation.retentionDays + 1, version: "1.3", messages: 1, last: 1)
            ])
            #expect(try await store.tlsObservations(userID: nil, sinceDay: 0).map(\.domain) == ["c.test"])
        }
    }

    /// The signed webhook's key: one per user, kept while on (a second enable keeps it), seen by
    /// every node's batches, forgotten when turned off.
    @Test(arguments: Backend.available) func webhookSigningKeysAreKeptPerUser(backend: Backend) async throws {
        try await withStore(backend) { nodeA, db in
            let nodeB = try await db.open()
            defer { nodeB.close() }
            let acme = try await nodeA.createAccount(name: "acme", email: nil)
            let other = try await nodeA.createAccount(name: "other", email: nil)
            #expect(try await nodeA.webhookSigningKey(userID: acme.id) == nil)
            let first = [UInt8](repeating: 7, count: 32)
            #expect(try await nodeA.enableWebhookSigning(userID: acme.id, candidate: first) == first)
            #expect(try await nodeB.enableWebhookSigning(userID: acme.id, candidate: [UInt8](repeating: 8, count: 32)) == first)
            #expect(try await nodeB.webhookSigningKey(userID: acme.id) == first)
            #expect(try await nodeB.webhookSigningKey(userID: other.id) == nil)
            try await nodeA.saveWebhookSettings(
                userID: acme.id, WebhookSettings(enabled: true, url: "http://127.0.0.1:9/hook", events: ["delivered": true]))
            try await nodeA.enqueue([], events: [Self.event(acme.id, "e1", "delivered", "a@x.test")], lifetime: 60)
            let batches = try await nodeB.pendingWebhookBatches(limit: 10)
            #expect(batches.map(\.signingKey) == [first])
            try await nodeB.releaseWebhookEvents(eventIDs: batches.flatMap { $0.events.map(\.id) })
            try await nodeA.disableWebhookSigning(userID: acme.id)
            #expect(try await nodeB.webhookSigningKey(userID: acme.id) == nil)
            #expect(try await nodeB.pendingWebhookBatches(limit: 10).map(\.signingKey) == [nil])
        }
    }
}

/// What only the PostgreSQL backend needs checking: its migrations and schema guards.
@Suite struct PostgresSchemaTests {
    @Test func knowsExactlyTheSharedMigrations() {
        #expect(PostgresMigrations.steps.map(\.id) == Schema.migrations)
    }

    @Test(.enabled(if: Backend.available.contains(.postgres))) func serveRefusesAnUnmigratedOrNewerSchema() async throws {
        try await withDatabase(.postgres) { db in
            await #expect(throws: StoreError.schemaBehind(missing: Schema.migrations)) {
                _ = try await PostgresStore.open(url: db.location, logger: TestDatabase.logger, migrate: false)
            }
            let store = try await PostgresStore.open(url: db.location, logger: TestDatabase.logger, migrate: true)
            defer { store.close() }
            #expect(try await store.migrate().isEmpty, "a second migrate applies nothing")
            try await store.client.query("INSERT INTO schema_migrations (identifier, applied_at) VALUES ('v99-from-the-future', now())")
            await #expect(throws: StoreError.self) {
                _ = try await PostgresStore.open(url: db.location, logger: TestDatabase.logger, migrate: false)
            }
        }
    }

    @Test(.enabled(if: Backend.available.contains(.postgres))) func concurrentMigratesTakeTurns() async throws {
        try await withDatabase(.postgres) { db in
            let stores = try await withThrowingTaskGroup(of: PostgresStore.self) { group in
                for _ in 0..<4 {
                    group.addTask { try await PostgresStore.open(url: db.location, logger: TestDatabase.logger, migrate: true) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            defer { stores.forEach { $0.close() } }
            #expect(try await stores[0].appliedMigrations() == Schema.migrations)
        }
    }

    @Test func urlsAreParsedAndPasswordsHidden() throws {
        let url = try PostgresURL("postgres://app:s%40cret@db.internal:6432/mail?sslmode=require")
        #expect(url.host == "db.internal" && url.port == 6432 && url.username == "app" && url.password == "s@cret")
        #expect(url.database == "mail" && url.sslMode == "require")
        #expect(!PostgresURL.redacted("postgres://app:s3cret@h/db").contains("s3cret"))
        #expect(throws: PostgresURLError.self) { try PostgresURL("postgres://h/db") }
        #expect(throws: PostgresURLError.self) { try PostgresURL("postgres://a@h/db?sslmode=bogus") }
    }
}
