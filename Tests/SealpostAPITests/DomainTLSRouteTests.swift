import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import SealpostAPI
@testable import SealpostCore

/// `…/enforced_tls/domains[/{domain}]`: the account object's contract (scopes, on-behalf-of,
/// validation, error shape, audit) for per-recipient-domain entries.
@Suite struct DomainTLSRouteTests {
    let domains = "/v3/user/settings/enforced_tls/domains"

    @Test func putGetListDeleteWithDefaultsAndNormalisedNames() async throws {
        let world = try await World.make(); defer { world.remove() }
        try await world.app().test(.router) { client in
            var r = try await client.call(.get, domains, key: world.acmeKey)
            #expect(r.status == .ok && r.body == "[]")
            r = try await client.call(.put, "\(domains)/Example.COM", key: world.acmeKey, body: #"{"require_tls":true}"#)
            #expect(r.status == .ok)
            #expect(r.body == #"{"domain":"example.com","require_tls":true,"require_valid_cert":false,"version":1.1}"#)
            r = try await client.call(.put, "\(domains)/.example.com", key: world.acmeKey)
            #expect(r.body == #"{"domain":".example.com","require_tls":false,"require_valid_cert":false,"version":1.1}"#)
            // PUT replaces the whole entry: absent fields fall back to the defaults.
            r = try await client.call(
                .put, "\(domains)/example.com", key: world.acmeKey, body: #"{"require_valid_cert":true,"version":"1.3"}"#)
            #expect(r.body == #"{"domain":"example.com","require_tls":false,"require_valid_cert":true,"version":1.3}"#)
            r = try await client.call(.get, "\(domains)/EXAMPLE.com", key: world.acmeKey)
            #expect(r.status == .ok && r.body == #"{"domain":"example.com","require_tls":false,"require_valid_cert":true,"version":1.3}"#)
            r = try await client.call(.get, domains, key: world.acmeKey)
            #expect(
                r.body == #"[{"domain":".example.com","require_tls":false,"require_valid_cert":false,"version":1.1},"#
                    + #"{"domain":"example.com","require_tls":false,"require_valid_cert":true,"version":1.3}]"#)
            r = try await client.call(.delete, "\(domains)/example.com", key: world.acmeKey)
            #expect(r.status == .noContent && r.body.isEmpty)
            for method in [HTTPRequest.Method.get, .delete] {
                r = try await client.call(method, "\(domains)/example.com", key: world.acmeKey)
                #expect(r.status == .notFound && r.body == #"{"errors":[{"field":null,"message":"resource not found"}]}"#)
            }
            // The account object itself is untouched.
            #expect(try await client.call(.get, settingsPath, key: world.acmeKey).body == defaultSettings)
        }
        let trail = try await world.store.domainAuditEntries(userID: world.acme.id)
        #expect(trail.map(\.domain) == ["example.com", ".example.com", "example.com", "example.com"])
        #expect(trail.map { $0.new == nil } == [false, false, false, true])
        #expect(trail.allSatisfy { $0.actor.via == "api" && $0.actor.keyID != nil && $0.actor.onBehalfOf == nil })
    }

    @Test(arguments: ["192.0.2.1", "%5B192.0.2.1%5D", "example.com:25", "localhost", "..example.com", "example.com.", "b%C3%BCcher.test"])
    func aPathThatIsNotADomainIs400NamingDomain(_ path: String) async throws {
        let world = try await World.make(); defer { world.remove() }
        try await world.app().test(.router) { client in
            for method in [HTTPRequest.Method.get, .put, .delete] {
                let r = try await client.call(method, "\(domains)/\(path)", key: world.acmeKey)
                #expect(r.status == .badRequest, "\(method) \(path)")
                #expect(try errorItems(r.body).map(\.0) == ["domain"])
            }
        }
        #expect(try await world.store.domainTLSEntries(userID: world.acme.id).isEmpty)
    }

    @Test func badFieldsAre400AndChangeNothing() async throws {
        let world = try await World.make(); defer { world.remove() }
        try await world.app().test(.router) { client in
            let r = try await client.call(.put, "\(domains)/a.test", key: world.acmeKey, body: #"{"require_tls":"yes","version":1.4}"#)
            #expect(r.status == .badRequest)
            #expect(try errorItems(r.body).map(\.0) == ["require_tls", "version"])
            #expect(try await client.call(.get, "\(domains)/a.test", key: world.acmeKey).status == .notFound)
        }
    }

    @Test func scopesAndOnBehalfOfAsForTheAccountObject() async throws {
        let world = try await World.make(); defer { world.remove() }
        try await world.app().test(.router) { client in
            #expect(try await client.call(.get, domains).status == .unauthorized)
            #expect(try await client.call(.put, "\(domains)/a.test", key: world.acmeReadOnly).status == .forbidden)
            #expect(try await client.call(.get, domains, key: world.acmeUpdateOnly).status == .forbidden)
            #expect(try await client.call(.get, domains, key: world.acmeReadOnly).status == .ok)
            var r = try await client.call(
                .put, "\(domains)/a.test", key: world.acmeKey, onBehalfOf: "acme-sub", body: #"{"require_tls":true}"#)
            #expect(r.status == .ok)
            r = try await client.call(.get, domains, key: world.acmeSubKey)
            #expect(r.body == #"[{"domain":"a.test","require_tls":true,"require_valid_cert":false,"version":1.1}]"#)
            #expect(try await client.call(.get, domains, key: world.acmeKey).body == "[]", "the parent's own entries are apart")
            // Another tenant's subuser: 403, as for the account object.
            r = try await client.call(.get, domains, key: world.acmeKey, onBehalfOf: "globex-sub")
            #expect(r.status == .forbidden && r.body == forbiddenBody)
            r = try await client.call(.put, "\(domains)/a.test", key: world.acmeKey, onBehalfOf: "account-id \(world.globexCust.id)")
            #expect(r.status == .forbidden)
        }
        #expect(try await world.store.domainTLSEntries(userID: world.globexCust.id).isEmpty)
        #expect(try await world.store.domainAuditEntries(userID: world.acmeSub.id).first?.actor.onBehalfOf == "acme-sub")
    }
}
