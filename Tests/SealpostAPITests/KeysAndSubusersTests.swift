import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import SealpostAPI
@testable import SealpostCore

private func json(_ body: String) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
}

@Suite struct APIKeyRouteTests {
    @Test func createListShowDelete() async throws {
        let world = try await World.make(); defer { world.remove() }
        try await world.app().test(.router) { client in
            var r = try await client.call(
                .post, "/v3/api_keys", key: world.acmeKey,
                body: #"{"name":"reader","scopes":["user.settings.enforced_tls.read"]}"#)
            #expect(r.status == .created)
            let created = try json(r.body)
            let newKey = try #require(created["api_key"] as? String)
            let newID = try #require(created["api_key_id"] as? String)
            #expect(created["name"] as? String == "reader")
            #expect(created["scopes"] as? [String] == ["user.settings.enforced_tls.read"])
            #expect(newKey.hasPrefix("SG.\(newID).") && newKey.count == 69)

            // The new key works within its scopes only.
            #expect(try await client.call(.get, settingsPath, key: newKey).status == .ok)
            #expect(try await client.call(.patch, settingsPath, key: newKey, body: "{}").status == .forbidden)
            r = try await client.call(.get, "/v3/scopes", key: newKey)
            #expect(try json(r.body)["scopes"] as? [String] == ["user.settings.enforced_tls.read"])

            r = try await client.call(.get, "/v3/api_keys", key: world.acmeKey)
            let listed = try #require(try json(r.body)["result"] as? [[String: Any]])
            #expect(listed.contains { $0["api_key_id"] as? String == newID && $0["name"] as? String == "reader" })
            #expect(!r.body.contains(".\(newKey.split(separator: ".")[2])"), "secrets are never listed")

            r = try await client.call(.get, "/v3/api_keys/\(newID)", key: world.acmeKey)
            #expect(r.status == .ok)
            #expect(try json(r.body)["scopes"] as? [String] == ["user.settings.enforced_tls.read"])

            r = try await client.call(.delete, "/v3/api_keys/\(newID)", key: world.acmeKey)
            #expect(r.status == .noContent)
            #expect(try await client.call(.get, settingsPath, key: newKey).status == .unauthorized)
            #expect(try await client.call(.get, "/v3/api_keys/\(newID)", key: world.acmeKey).status == .notFound)
            #expect(try await client.call(.delete, "/v3/api_keys/\(newID)", key: world.acmeKey).status == .notFound)
        }
    }

    @Test func aKeyCanOnlyGrantScopesItHas() async throws {
        let world = try await World.make(); defer { world.remove() }
        let creator = try await world.store.issueKey(
            userID: world.acme.id, name: "limited", grant: .scopes([Scope.apiKeysCreate, Scope.enforcedTLSRead])
        ).token.plaintext
        try await world.app().test(.router) { client in
            var r = try await client.call(
                .post, "/v3/api_keys", key: creator, body: #"{"name":"x","scopes":["user.settings.enforced_tls.update"]}"#)
            #expect(r.status == .forbidden)
            #expect(try errorItems(r.body).first?.0 == "scopes")
            r = try await client.call(
                .post, "/v3/api_keys", key: creator, body: #"{"name":"x","scopes":["user.settings.enforced_tls.read"]}"#)
            #expect(r.status == .created)
            // Without a list the new key copies the creator's scopes, never more.
            r = try await client.call(.post, "/v3/api_keys", key: creator, body: #"{"name":"copy"}"#)
            #expect(r.status == .created)
            #expect(Set(try json(r.body)["scopes"] as? [String] ?? []) == [Scope.apiKeysCreate, Scope.enforcedTLSRead])
            // A full-access key without a list creates a full-access key.
            r = try await client.call(.post, "/v3/api_keys", key: world.acmeKey, body: #"{"name":"full"}"#)
            #expect(try json(r.body)["scopes"] as? [String] == Scope.all)
            // A key without api_keys.create cannot create keys at all.
            r = try await client.call(.post, "/v3/api_keys", key: world.acmeReadOnly, body: #"{"name":"x"}"#)
            #expect(r.status == .forbidden && r.body == forbiddenBody)
        }
    }

    @Test(arguments: [
        (#"{}"#, "name"), (#"{"name":""}"#, "name"), (#"{"name":5}"#, "name"),
        (#"{"name":"k","scopes":"mail.send"}"#, "scopes"), (#"{"name":"k","scopes":[1]}"#, "scopes"),
        (#"{"name":"k","scopes":["no.such.scope"]}"#, "scopes"),
    ])
    func badCreateBodiesAre400(body: String, field: String) async throws {
        let world = try await World.make(); defer { world.remove() }
        try await world.app().test(.router) { client in
            let r = try await client.call(.post, "/v3/api_keys", key: world.acmeKey, body: body)
            #expect(r.status == .badRequest)
            #expect(try errorItems(r.body).map(\.0).contains(field))
        }
    }

    @Test func anotherTenantsKeyIdIsJustNotFound() async throws {
        let world = try await World.make(); defer { world.remove() }
        let globexKeyID = String(world.globexKey.split(separator: ".")[1])
        try await world.app().test(.router) { client in
            let unknown = try await client.call(.get, "/v3/api_keys/AAAAAAAAAAAAAAAAAAAAAA", key: world.acmeKey)
            let foreign = try await client.call(.get, "/v3/api_keys/\(globexKeyID)", key: world.acmeKey)
            #expect(foreign.status == .notFound && foreign.body == unknown.body)
            let delete = try await client.call(.delete, "/v3/api_keys/\(globexKeyID)", key: world.acmeKey)
            #expect(delete.status == .notFound)
            #expect(try await client.call(.get, settingsPath, key: world.globexKey).status == .ok, "globex's key still works")
        }
    }

    @Test func parentManagesItsSubusersKeysOnBehalf() async throws {
        let world = try await World.make(); defer { world.remove() }
        try await world.app().test(.router) { client in
            let r = try await client.call(.post, "/v3/api_keys", key: world.acmeKey, onBehalfOf: "acme-sub", body: #"{"name":"for-sub"}"#)
            #expect(r.status == .created)
            let subKey = try #require(try json(r.body)["api_key"] as? String)
            _ = try await client.call(.patch, settingsPath, key: subKey, body: #"{"version":1.3}"#)
            #expect(
                try await client.call(.get, settingsPath, key: world.acmeKey, onBehalfOf: "acme-sub").body
                    == #"{"require_tls":false,"require_valid_cert":false,"version":1.3}"#)
            let foreign = try await client.call(.post, "/v3/api_keys", key: world.acmeKey, onBehalfOf: "globex-sub", body: #"{"name":"x"}"#)
            #expect(foreign.status == .forbidden && foreign.body == forbiddenBody)
        }
    }
}

@Suite struct SubuserRouteTests {
    @Test func createAndList() async throws {
        let world = try await World.make(); defer { world.remove() }
        try await world.app().test(.router) { client in
            var r = try await client.call(
                .post, "/v3/subusers", key: world.acmeKey,
                body: #"{"username":"acme-new","email":"new@acme.test","password":"Hunter2!secret","ips":["10.0.0.1"]}"#)
            #expect(r.status == .created)
            let created = try json(r.body)
            #expect(created["username"] as? String == "acme-new")
            #expect(created["email"] as? String == "new@acme.test")
            #expect(created["user_id"] as? Int != nil)
            #expect(!r.body.contains("Hunter2"), "a password is never echoed")

            r = try await client.call(.get, "/v3/subusers", key: world.acmeKey)
            let names = try #require(try JSONSerialization.jsonObject(with: Data(r.body.utf8)) as? [[String: Any]]).compactMap {
                $0["username"] as? String
            }
            #expect(names == ["acme-sub", "acme-new"])
            r = try await client.call(.get, "/v3/subusers?username=acme-new", key: world.acmeKey)
            #expect(r.body.contains("acme-new") && !r.body.contains("acme-sub"))
            r = try await client.call(.get, "/v3/subusers?limit=1&offset=1", key: world.acmeKey)
            #expect(r.body.contains("acme-new") && !r.body.contains("acme-sub"))
            r = try await client.call(.get, "/v3/subusers?limit=0", key: world.acmeKey)
            #expect(r.status == .badRequest)
            #expect(try errorItems(r.body).first?.0 == "limit")
            // The new subuser is a real user: the parent acts for it at once.
            #expect(try await client.call(.get, settingsPath, key: world.acmeKey, onBehalfOf: "acme-new").status == .ok)
            // Globex sees none of acme's subusers.
            r = try await client.call(.get, "/v3/subusers", key: world.globexKey)
            #expect(!r.body.contains("acme"))
        }
        #expect(try await world.store.user(named: "acme-new")?.parentID == world.acme.id)
    }

    @Test func refusals() async throws {
        let world = try await World.make(); defer { world.remove() }
        try await world.app().test(.router) { client in
            var r = try await client.call(.post, "/v3/subusers", key: world.acmeKey, body: #"{"username":"globex-sub","email":"a@b.test"}"#)
            #expect(r.status == .conflict)
            #expect(try errorItems(r.body).first?.1 == "username exists")
            r = try await client.call(.post, "/v3/subusers", key: world.acmeKey, body: #"{"username":"bad name","email":"nope"}"#)
            #expect(r.status == .badRequest)
            #expect(try errorItems(r.body).map(\.0) == ["username", "email"])
            r = try await client.call(.post, "/v3/subusers", key: world.acmeSubKey, body: #"{"username":"x1","email":"a@b.test"}"#)
            #expect(r.status == .forbidden, "a subuser cannot have subusers")
            r = try await client.call(.post, "/v3/subusers", key: world.acmeReadOnly, body: #"{"username":"x2","email":"a@b.test"}"#)
            #expect(r.status == .forbidden)
        }
    }
}

@Suite struct SystemRouteTests {
    @Test func documentedScopesAreTheKnownScopes() throws {
        let doc = try json(OpenAPIDocument.rendered(now: Date()))
        let scope = ((doc["components"] as? [String: Any])?["schemas"] as? [String: Any])?["Scope"] as? [String: Any]
        #expect(Set(scope?["enum"] as? [String] ?? []) == Set(Scope.all))
    }

    @Test func healthMetricsAndOpenAPINeedNoKey() async throws {
        let world = try await World.make(); defer { world.remove() }
        try await world.app().test(.router) { client in
            #expect(try await client.call(.get, "/healthz").body == "ok\n")
            #expect(try await client.call(.get, "/metrics").status == .ok)
            let r = try await client.call(.get, "/openapi.json")
            #expect(r.status == .ok)
            let doc = try json(r.body)
            #expect(doc["openapi"] as? String == "3.1.0")
        }
    }

    /// Every documented operation is served (not 404/405), and every route the router serves is documented.
    @Test func openAPIDocumentMatchesTheRoutes() async throws {
        let world = try await World.make(); defer { world.remove() }
        let methods: [String: HTTPRequest.Method] = ["get": .get, "post": .post, "patch": .patch, "delete": .delete, "put": .put]
        try await world.app().test(.router) { client in
            let doc = try json(OpenAPIDocument.rendered(now: Date()))
            let paths = try #require(doc["paths"] as? [String: [String: Any]])
            for (path, item) in paths {
                let uri = path.replacingOccurrences(of: "{api_key_id}", with: String(world.acmeKey.split(separator: ".")[1]))
                    .replacingOccurrences(of: "{email}", with: "nobody@example.test")
                for (name, method) in methods {
                    let r = try await client.call(method, uri, key: world.acmeKey, body: method == .get || method == .delete ? nil : "{}")
                    if item[name] != nil {
                        let responses = try #require((item[name] as? [String: Any])?["responses"] as? [String: Any])
                        #expect(r.status != .methodNotAllowed, "\(name) \(path) is documented but not served")
                        #expect(r.status != .notFound || responses["404"] != nil, "\(name) \(path) is documented but not served")
                        #expect(responses[String(r.status.code)] != nil, "\(name) \(path) answered an undocumented \(r.status.code)")
                    } else if path.hasPrefix("/v3") {
                        #expect(r.status == .methodNotAllowed, "\(name) \(path) is served but not documented")
                    }
                }
            }
        }
    }
}
