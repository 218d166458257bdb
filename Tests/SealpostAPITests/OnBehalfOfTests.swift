import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import SealpostAPI
@testable import SealpostCore

@Suite struct OnBehalfOfTests {
    @Test func parentActsForItsSubuser() async throws {
        let world = try await World.make(); defer { world.remove() }
        try await world.app().test(.router) { client in
            var r = try await client.call(
                .patch, settingsPath, key: world.acmeKey, onBehalfOf: "acme-sub", body: #"{"require_tls":true,"version":1.2}"#)
            #expect(r.status == .ok)
            #expect(r.body == #"{"require_tls":true,"require_valid_cert":false,"version":1.2}"#)
            // The subuser's own key sees the change; the parent's own setting is untouched.
            r = try await client.call(.get, settingsPath, key: world.acmeSubKey)
            #expect(r.body == #"{"require_tls":true,"require_valid_cert":false,"version":1.2}"#)
            r = try await client.call(.get, settingsPath, key: world.acmeKey)
            #expect(r.body == defaultSettings)
            r = try await client.call(.get, settingsPath, key: world.acmeKey, onBehalfOf: "acme-sub")
            #expect(r.body == #"{"require_tls":true,"require_valid_cert":false,"version":1.2}"#)
        }
        let trail = try await world.store.auditEntries(userID: world.acmeSub.id)
        #expect(trail.count == 1)
        #expect(trail[0].actor.onBehalfOf == "acme-sub")
        #expect(trail[0].actor.keyID == String(world.acmeKey.split(separator: ".")[1]))
    }

    @Test func parentActsForItsCustomerAccount() async throws {
        let world = try await World.make(); defer { world.remove() }
        try await world.app().test(.router) { client in
            let header = "account-id \(world.acmeCust.id)"
            var r = try await client.call(
                .patch, settingsPath, key: world.acmeKey, onBehalfOf: header, body: #"{"require_valid_cert":true}"#)
            #expect(r.status == .ok)
            #expect(r.body == #"{"require_tls":false,"require_valid_cert":true,"version":1.1}"#)
            r = try await client.call(.get, settingsPath, key: world.acmeCustKey)
            #expect(r.body == #"{"require_tls":false,"require_valid_cert":true,"version":1.1}"#)
            r = try await client.call(.get, settingsPath, key: world.acmeKey)
            #expect(r.body == defaultSettings)
        }
        #expect(try await world.store.auditEntries(userID: world.acmeCust.id).first?.actor.onBehalfOf == "account-id \(world.acmeCust.id)")
    }

    @Test func crossTenantAndUnknownTargetsGetOneAndTheSame403() async throws {
        let world = try await World.make(); defer { world.remove() }
        let targets = [
            "globex-sub",  // another parent's subuser
            "account-id \(world.globexCust.id)",  // another parent's customer account
            "no-such-user",  // does not exist
            "account-id 999999",  // does not exist
            "account-id \(world.acmeSub.id)",  // a subuser addressed as a customer account
            "acme-cust",  // a customer account addressed as a subuser
            "globex",  // another parent itself
            "acme",  // the caller itself by name
            "account-id",  // malformed
        ]
        try await world.app().test(.router) { client in
            for target in targets {
                for method in [HTTPRequest.Method.get, .patch] {
                    let r = try await client.call(
                        method, settingsPath, key: world.acmeKey, onBehalfOf: target,
                        body: method == .patch ? #"{"require_tls":true}"# : nil)
                    #expect(r.status == .forbidden, "\(method) on-behalf-of \(target)")
                    #expect(r.body == forbiddenBody)
                }
            }
            // Nothing changed anywhere.
            for key in [world.globexKey] {
                #expect(try await client.call(.get, settingsPath, key: key, onBehalfOf: "globex-sub").body == defaultSettings)
                #expect(
                    try await client.call(.get, settingsPath, key: key, onBehalfOf: "account-id \(world.globexCust.id)").body
                        == defaultSettings)
            }
        }
    }

    @Test func subusersAndCustomersMayNotUseTheHeader() async throws {
        let world = try await World.make(); defer { world.remove() }
        try await world.app().test(.router) { client in
            var r = try await client.call(.get, settingsPath, key: world.acmeSubKey, onBehalfOf: "acme-sub")
            #expect(r.status == .forbidden && r.body == forbiddenBody)
            r = try await client.call(.get, settingsPath, key: world.acmeCustKey, onBehalfOf: "account-id \(world.acmeCust.id)")
            #expect(r.status == .forbidden && r.body == forbiddenBody)
            r = try await client.call(.get, settingsPath, key: world.acmeSubKey, onBehalfOf: "acme")
            #expect(r.status == .forbidden)
        }
    }

    @Test func headerNameIsCaseInsensitive() async throws {
        let world = try await World.make(); defer { world.remove() }
        try await world.app().test(.router) { client in
            _ = try await client.call(.patch, settingsPath, key: world.acmeKey, onBehalfOf: "acme-sub", body: #"{"version":1.3}"#)
            let r = try await client.call(.get, settingsPath, key: world.acmeKey, headers: [HTTPField.Name("On-Behalf-Of")!: "acme-sub"])
            #expect(r.body == #"{"require_tls":false,"require_valid_cert":false,"version":1.3}"#)
        }
    }

    @Test func scopeIsStillCheckedWhenActingForASubuser() async throws {
        let world = try await World.make(); defer { world.remove() }
        try await world.app().test(.router) { client in
            let r = try await client.call(
                .patch, settingsPath, key: world.acmeReadOnly, onBehalfOf: "acme-sub", body: #"{"require_tls":true}"#)
            #expect(r.status == .forbidden)
            #expect(try await client.call(.get, settingsPath, key: world.acmeReadOnly, onBehalfOf: "acme-sub").status == .ok)
        }
    }
}
