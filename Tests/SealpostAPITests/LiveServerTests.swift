import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import SealpostAPI
@testable import SealpostCore

/// A few tests over a real socket, to cover what the in-process router skips (HTTP parsing,
/// connection handling, the remote address used for rate limiting).
@Suite struct LiveServerTests {
    @Test func getAndPatchOverTCP() async throws {
        let world = try await World.make(); defer { world.remove() }
        try await world.app().test(.live) { client in
            var r = try await client.call(.patch, settingsPath, key: world.acmeKey, body: #"{"require_tls":true,"version":1.2}"#)
            #expect(r.status == .ok)
            #expect(r.body == #"{"require_tls":true,"require_valid_cert":false,"version":1.2}"#)
            r = try await client.call(.get, settingsPath, key: world.acmeKey)
            #expect(r.body == #"{"require_tls":true,"require_valid_cert":false,"version":1.2}"#)
            r = try await client.call(.get, settingsPath)
            #expect(r.status == .unauthorized && r.body == unauthorizedBody)
        }
    }

    @Test func oversizedBodyOverTCPIs413() async throws {
        let world = try await World.make(); defer { world.remove() }
        try await world.app().test(.live) { client in
            let r = try await client.call(
                .patch, settingsPath, key: world.acmeKey, body: "{\"x\":\"" + String(repeating: "y", count: 200_000) + "\"}")
            #expect(r.status == .contentTooLarge)
        }
    }
}
