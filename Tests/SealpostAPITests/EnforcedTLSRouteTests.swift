import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import SealpostAPI
@testable import SealpostCore

@Suite struct EnforcedTLSRouteTests {
    @Test func getReturnsDefaultsForANewUser() async throws {
        let world = try await World.make(); defer { world.remove() }
        try await world.app().test(.router) { client in
            let r = try await client.call(.get, settingsPath, key: world.acmeKey)
            #expect(r.status == .ok)
            #expect(r.body == defaultSettings)
            #expect(r.headers[.contentType] == "application/json")
        }
    }

    @Test func patchIsPartialAndAnswersTheWholeObject() async throws {
        let world = try await World.make(); defer { world.remove() }
        try await world.app().test(.router) { client in
            var r = try await client.call(.patch, settingsPath, key: world.acmeKey, body: #"{"require_tls":true}"#)
            #expect(r.status == .ok)
            #expect(r.body == #"{"require_tls":true,"require_valid_cert":false,"version":1.1}"#)
            r = try await client.call(.patch, settingsPath, key: world.acmeKey, body: #"{"version":1.3}"#)
            #expect(r.body == #"{"require_tls":true,"require_valid_cert":false,"version":1.3}"#)
            r = try await client.call(.patch, settingsPath, key: world.acmeKey, body: #"{"require_valid_cert":true,"version":"1.2"}"#)
            #expect(r.body == #"{"require_tls":true,"require_valid_cert":true,"version":1.2}"#)
            // An empty object and an empty body change nothing and still answer the whole object.
            r = try await client.call(.patch, settingsPath, key: world.acmeKey, body: "{}")
            #expect(r.status == .ok && r.body == #"{"require_tls":true,"require_valid_cert":true,"version":1.2}"#)
            r = try await client.call(.patch, settingsPath, key: world.acmeKey)
            #expect(r.status == .ok && r.body == #"{"require_tls":true,"require_valid_cert":true,"version":1.2}"#)
            r = try await client.call(.get, settingsPath, key: world.acmeKey)
            #expect(r.body == #"{"require_tls":true,"require_valid_cert":true,"version":1.2}"#)
        }
        #expect(try await world.store.auditEntries(userID: world.acme.id).count == 5)
    }

    @Test func unknownFieldsAreIgnored() async throws {
        let world = try await World.make(); defer { world.remove() }
        try await world.app().test(.router) { client in
            let r = try await client.call(
                .patch, settingsPath, key: world.acmeKey, body: #"{"require_tls":true,"colour":"blue","nested":{"a":[1]}}"#)
            #expect(r.status == .ok)
            #expect(r.body == #"{"require_tls":true,"require_valid_cert":false,"version":1.1}"#)
        }
    }

    @Test(arguments: [
        (#"{"version":1.4}"#, ["version"]),
        (#"{"version":1}"#, ["version"]),
        (#"{"version":"1.0"}"#, ["version"]),
        (#"{"version":null}"#, ["version"]),
        (#"{"version":true}"#, ["version"]),
        (#"{"require_tls":"true"}"#, ["require_tls"]),
        (#"{"require_tls":1}"#, ["require_tls"]),
        (#"{"require_valid_cert":null}"#, ["require_valid_cert"]),
        (#"{"require_tls":0,"require_valid_cert":"no","version":9}"#, ["require_tls", "require_valid_cert", "version"]),
    ])
    func badFieldsAre400NamingTheField(body: String, fields: [String]) async throws {
        let world = try await World.make(); defer { world.remove() }
        try await world.app().test(.router) { client in
            let r = try await client.call(.patch, settingsPath, key: world.acmeKey, body: body)
            #expect(r.status == .badRequest)
            #expect(try errorItems(r.body).map(\.0) == fields)
            // Nothing was changed by the refused request.
            #expect(try await client.call(.get, settingsPath, key: world.acmeKey).body == defaultSettings)
        }
    }

    @Test(arguments: ["[1,2]", "\"text\"", "42", "null", "true"])
    func nonObjectBodiesAre400(body: String) async throws {
        let world = try await World.make(); defer { world.remove() }
        try await world.app().test(.router) { client in
            let r = try await client.call(.patch, settingsPath, key: world.acmeKey, body: body)
            #expect(r.status == .badRequest)
            #expect(r.body == #"{"errors":[{"field":null,"message":"request body must be a JSON object"}]}"#)
        }
    }

    @Test(arguments: ["{", "{\"require_tls\":tru}", "{'a':1}", "\u{0}"])
    func malformedJSONIs400(body: String) async throws {
        let world = try await World.make(); defer { world.remove() }
        try await world.app().test(.router) { client in
            let r = try await client.call(.patch, settingsPath, key: world.acmeKey, body: body)
            #expect(r.status == .badRequest)
            #expect(r.body == #"{"errors":[{"field":null,"message":"request body is not valid JSON"}]}"#)
        }
    }

    @Test func deeplyNestedJSONIsRefusedCleanly() async throws {
        let world = try await World.make(); defer { world.remove() }
        try await world.app().test(.router) { client in
            let deep = "{\"x\":" + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "}"
            let r = try await client.call(.patch, settingsPath, key: world.acmeKey, body: deep)
            #expect(r.status == .badRequest)
        }
    }

    @Test func oversizedBodyIs413() async throws {
        let world = try await World.make(); defer { world.remove() }
        try await world.app().test(.router) { client in
            let big = "{\"pad\":\"" + String(repeating: "a", count: 100_000) + "\"}"
            let r = try await client.call(.patch, settingsPath, key: world.acmeKey, body: big)
            #expect(r.status == .contentTooLarge)
            #expect(r.body == #"{"errors":[{"field":null,"message":"content too large"}]}"#)
        }
    }

    @Test func scopesMapGETToReadAndPATCHToUpdate() async throws {
        let world = try await World.make(); defer { world.remove() }
        try await world.app().test(.router) { client in
            #expect(try await client.call(.get, settingsPath, key: world.acmeReadOnly).status == .ok)
            var r = try await client.call(.patch, settingsPath, key: world.acmeReadOnly, body: #"{"require_tls":true}"#)
            #expect(r.status == .forbidden && r.body == forbiddenBody)
            r = try await client.call(.get, settingsPath, key: world.acmeUpdateOnly)
            #expect(r.status == .forbidden && r.body == forbiddenBody)
            r = try await client.call(.patch, settingsPath, key: world.acmeUpdateOnly, body: #"{"require_tls":true}"#)
            #expect(r.status == .ok)
            #expect(try await client.call(.get, settingsPath, key: world.acmeNoScopes).status == .forbidden)
        }
    }

    @Test(arguments: [
        nil, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token SG.x.y", "Bearer not-a-key",
        "Bearer SG.aaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    ])
    func missingMalformedOrUnknownKeysAre401(header: String?) async throws {
        let world = try await World.make(); defer { world.remove() }
        try await world.app().test(.router) { client in
            var headers = HTTPFields()
            if let header { headers[.authorization] = header }
            for method in [HTTPRequest.Method.get, .patch] {
                let r = try await client.call(method, settingsPath, body: method == .patch ? "{}" : nil, headers: headers)
                #expect(r.status == .unauthorized)
                #expect(r.body == unauthorizedBody)
            }
        }
    }

    @Test func aKeyWithAWrongSecretIs401() async throws {
        let world = try await World.make(); defer { world.remove() }
        let id = world.acmeKey.split(separator: ".")[1]
        let forged = "SG.\(id).\(String(repeating: "A", count: 43))"
        try await world.app().test(.router) { client in
            let r = try await client.call(.get, settingsPath, key: forged)
            #expect(r.status == .unauthorized && r.body == unauthorizedBody)
        }
    }

    @Test func schemeIsCaseInsensitive() async throws {
        let world = try await World.make(); defer { world.remove() }
        try await world.app().test(.router) { client in
            let r = try await client.call(.get, settingsPath, headers: [.authorization: "bearer \(world.acmeKey)"])
            #expect(r.status == .ok)
        }
    }

    @Test func revokedKeyStopsAtOnce() async throws {
        let world = try await World.make(); defer { world.remove() }
        try await world.app().test(.router) { client in
            #expect(try await client.call(.get, settingsPath, key: world.acmeReadOnly).status == .ok)
            let id = String(world.acmeReadOnly.split(separator: ".")[1])
            #expect(try await world.store.revokeKey(id: id, userID: nil))
            let r = try await client.call(.get, settingsPath, key: world.acmeReadOnly)
            #expect(r.status == .unauthorized && r.body == unauthorizedBody)
        }
    }

    @Test func unknownPathIs404AndWrongMethodIs405() async throws {
        let world = try await World.make(); defer { world.remove() }
        try await world.app().test(.router) { client in
            var r = try await client.call(.get, "/v3/user/settings/nope", key: world.acmeKey)
            #expect(r.status == .notFound)
            #expect(r.body == #"{"errors":[{"field":null,"message":"resource not found"}]}"#)
            for method in [HTTPRequest.Method.put, .post, .delete] {
                r = try await client.call(method, settingsPath, key: world.acmeKey, body: "{}")
                #expect(r.status == .methodNotAllowed)
                #expect(r.headers[.allow] == "GET, PATCH")
                #expect(r.body == #"{"errors":[{"field":null,"message":"method not allowed"}]}"#)
            }
        }
    }
}
