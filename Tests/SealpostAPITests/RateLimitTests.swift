import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import SealpostAPI
@testable import SealpostCore

@Suite struct RateLimitTests {
    @Test func everyAnswerCarriesTheHeadersAndTheLimitGives429() async throws {
        let world = try await World.make(); defer { world.remove() }
        // Mid-window, so the window cannot restart between the requests.
        let now = 1_800_000_030
        try await world.app(rateLimit: 3, clock: { now }).test(.router) { client in
            for expected in [2, 1, 0] {
                let r = try await client.call(.get, settingsPath, key: world.acmeKey)
                #expect(r.status == .ok)
                #expect(r.headers[HTTPField.Name("X-RateLimit-Limit")!] == "3")
                #expect(r.headers[HTTPField.Name("X-RateLimit-Remaining")!] == String(expected))
                let reset = try #require(Int(r.headers[HTTPField.Name("X-RateLimit-Reset")!] ?? ""))
                #expect(reset == 1_800_000_060, "an absolute Unix time: the end of the minute")
            }
            let r = try await client.call(.get, settingsPath, key: world.acmeKey)
            #expect(r.status == .tooManyRequests)
            #expect(r.body == #"{"errors":[{"field":null,"message":"too many requests"}]}"#)
            #expect(r.headers[HTTPField.Name("X-RateLimit-Remaining")!] == "0")
            // Another key, or the same key on another endpoint, has its own budget.
            #expect(try await client.call(.get, settingsPath, key: world.globexKey).status == .ok)
            #expect(try await client.call(.get, "/v3/scopes", key: world.acmeKey).status == .ok)
        }
    }

    @Test func errorsAndUnauthenticatedCallsAreCountedToo() async throws {
        let world = try await World.make(); defer { world.remove() }
        try await world.app(rateLimit: 2, clock: { 1_800_000_030 }).test(.router) { client in
            var r = try await client.call(.get, settingsPath)
            #expect(r.status == .unauthorized)
            #expect(r.headers[HTTPField.Name("X-RateLimit-Remaining")!] == "1")
            r = try await client.call(.get, settingsPath, key: "SG.bogus.bogus")
            #expect(r.status == .unauthorized)
            r = try await client.call(.get, settingsPath)
            #expect(r.status == .tooManyRequests, "key guessing is limited per address")
            r = try await client.call(.patch, settingsPath, key: world.acmeKey, body: "{bad")
            #expect(r.status == .badRequest)
            #expect(r.headers[HTTPField.Name("X-RateLimit-Remaining")!] == "1")
        }
    }

    @Test func windowsRestartEachMinute() {
        let limiter = RateLimiter(limit: 2)
        let t = 1_800_000_000 - 1_800_000_000 % 60
        #expect(limiter.take(bucket: "a", now: t).allowed)
        #expect(limiter.take(bucket: "a", now: t + 10).allowed)
        let third = limiter.take(bucket: "a", now: t + 59)
        #expect(!third.allowed && third.remaining == 0 && third.reset == t + 60)
        let next = limiter.take(bucket: "a", now: t + 60)
        #expect(next.allowed && next.remaining == 1 && next.reset == t + 120)
    }
}
