import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@testable import SealpostAPI
@testable import SealpostCore
@testable import SealpostStorage

private let valid =
    #"{"personalizations":[{"to":[{"email":"to@example.test"}],"cc":[{"email":"cc@example.test"}]}],"from":{"email":"from@sender.test"},"subject":"Hi","content":[{"type":"text/plain","value":"hello"}]}"#

@Suite struct MailSendRouteTests {
    @Test func acceptedMailIsQueuedWithProcessedEvents() async throws {
        let world = try await World.make(); defer { world.remove() }
        try await world.app().test(.router) { client in
            let r = try await client.call(.post, "/v3/mail/send", key: world.acmeSubKey, body: valid)
            #expect(r.status == .accepted)
            #expect(r.body.isEmpty)
            let id = try #require(r.headers[HTTPField.Name("X-Message-Id")!])
            #expect(id.count == 22)
        }
        #expect(try await world.store.queueCounts() == ["queued": 2])
        let events = try await world.store.events(userID: world.acmeSub.id, limit: 10)
        #expect(events.map(\.event) == ["processed", "processed"])
        #expect(Set(events.map(\.email)) == ["to@example.test", "cc@example.test"])
        // Sent with the subuser's key: queued under the subuser, so its settings apply.
        let claimed = try await world.store.claimDeliveries(now: Date(), limit: 10, lease: 60)
        #expect(claimed.allSatisfy { $0.userID == world.acmeSub.id })
        let content = String(decoding: claimed[0].content, as: UTF8.self)
        #expect(content.contains("Subject: Hi\r\n") && content.contains("hello"))
    }

    @Test(arguments: [
        (
            #"{"personalizations":[{"to":[{"email":"a@b.test"}]}],"subject":"s","content":[{"type":"text/plain","value":"v"}]}"#,
            "from.email"
        ),
        (
            #"{"personalizations":[],"from":{"email":"a@b.test"},"subject":"s","content":[{"type":"text/plain","value":"v"}]}"#,
            "personalizations"
        ),
        (#"{"from":{"email":"a@b.test"},"subject":"s","content":[{"type":"text/plain","value":"v"}]}"#, "personalizations"),
        (
            #"{"personalizations":[{"to":[{"email":"not an address"}]}],"from":{"email":"a@b.test"},"subject":"s","content":[{"type":"text/plain","value":"v"}]}"#,
            "personalizations.0.to.0.email"
        ),
        (
            #"{"personalizations":[{"to":[{"email":"a@b.test"}]}],"from":{"email":"a@b"},"subject":"s","content":[{"type":"text/plain","value":"v"}]}"#,
            "from.email"
        ),
        (#"{"personalizations":[{"to":[{"email":"a@b.test"}]}],"from":{"email":"a@b.test"},"subject":"s"}"#, "content"),
        (
            #"{"personalizations":[{"to":[{"email":"a@b.test"}]}],"from":{"email":"a@b.test"},"subject":"s","content":[{"type":"text/plain","value":""}]}"#,
            "content.0.value"
        ),
        (
            #"{"personalizations":[{"to":[{"email":"a@b.test"}]}],"from":{"email":"a@b.test"},"content":[{"type":"text/plain","value":"v"}]}"#,
            "subject"
        ),
        (
            #"{"personalizations":[{"to":[{"email":"a@b.test"}],"headers":{"X-Evil":"a\r\nBcc: x@y.test"}}],"from":{"email":"a@b.test"},"subject":"s","content":[{"type":"text/plain","value":"v"}]}"#,
            "personalizations.0.headers.X-Evil"
        ),
        // Not a host name: found by schemathesis.
        (
            #"{"personalizations":[{"to":[{"email":"a@b.example*"}]}],"from":{"email":"a@b.test"},"subject":"s","content":[{"type":"text/plain","value":"v"}]}"#,
            "personalizations.0.to.0.email"
        ),
        // A space in a header name would write a malformed header line: found by scripts/fuzz.
        (
            #"{"personalizations":[{"to":[{"email":"a@b.test"}]}],"from":{"email":"a@b.test"},"subject":"s","content":[{"type":"text/plain","value":"v"}],"headers":{"X- Campaign":"fall"}}"#,
            "headers.X- Campaign"
        ),
    ])
    func invalidRequestsAre400NamingTheField(body: String, field: String) async throws {
        let world = try await World.make(); defer { world.remove() }
        try await world.app().test(.router) { client in
            let r = try await client.call(.post, "/v3/mail/send", key: world.acmeKey, body: body)
            #expect(r.status == .badRequest)
            let fields = try errorItems(r.body).map(\.0)
            #expect(fields.contains(field), "\(r.body)")
        }
        #expect(try await world.store.queueCounts().isEmpty, "nothing is queued from a refused request")
    }

    @Test func subjectMayComeFromEveryPersonalization() async throws {
        let world = try await World.make(); defer { world.remove() }
        let body =
            #"{"personalizations":[{"to":[{"email":"a@b.test"}],"subject":"one"},{"to":[{"email":"c@d.test"}],"subject":"two"}],"from":{"email":"a@b.test"},"content":[{"type":"text/html","value":"<b>v</b>"}]}"#
        try await world.app().test(.router) { client in
            let r = try await client.call(.post, "/v3/mail/send", key: world.acmeKey, body: body)
            #expect(r.status == .accepted)
        }
        #expect(try await world.store.queueCounts() == ["queued": 2])
    }

    @Test func moreThanAThousandRecipientsIs400() async throws {
        let world = try await World.make(); defer { world.remove() }
        let to = (0..<1001).map { "{\"email\":\"r\($0)@example.test\"}" }.joined(separator: ",")
        let body =
            "{\"personalizations\":[{\"to\":[\(to)]}],\"from\":{\"email\":\"a@b.test\"},\"subject\":\"s\",\"content\":[{\"type\":\"text/plain\",\"value\":\"v\"}]}"
        try await world.app().test(.router) { client in
            let r = try await client.call(.post, "/v3/mail/send", key: world.acmeKey, body: body)
            #expect(r.status == .badRequest)
            #expect(try errorItems(r.body).first?.0 == "personalizations")
        }
    }

    @Test func authAndScope() async throws {
        let world = try await World.make(); defer { world.remove() }
        try await world.app().test(.router) { client in
            var r = try await client.call(.post, "/v3/mail/send", body: valid)
            #expect(r.status == .unauthorized)
            #expect(try errorItems(r.body).first?.1 == "The provided authorization grant is invalid, expired, or revoked")
            r = try await client.call(.post, "/v3/mail/send", key: world.acmeReadOnly, body: valid)
            #expect(r.status == .forbidden)
            r = try await client.call(.get, "/v3/mail/send", key: world.acmeKey)
            #expect(r.status == .methodNotAllowed)
        }
    }

    @Test func bodiesOver30MBAre413() async throws {
        let world = try await World.make(); defer { world.remove() }
        let big = "{\"pad\":\"" + String(repeating: "a", count: 31 * 1024 * 1024) + "\"}"
        try await world.app().test(.router) { client in
            let r = try await client.call(.post, "/v3/mail/send", key: world.acmeKey, body: big)
            #expect(r.status == .contentTooLarge)
        }
    }
}

/// `mail_settings.sandbox_mode.enable`: validated exactly as a real send, answered 200 with an
/// empty body, nothing queued, no event.
@Suite struct SandboxModeTests {
    static func body(_ sandbox: String, content: String = #"[{"type":"text/plain","value":"v"}]"#) -> String {
        #"{"personalizations":[{"to":[{"email":"to@example.test"}]}],"from":{"email":"from@sender.test"},"subject":"s","content":"#
            + content + #","mail_settings":"# + sandbox + "}"
    }

    @Test func aSandboxSendIsValidatedAndNotQueued() async throws {
        let world = try await World.make(); defer { world.remove() }
        try await world.app().test(.router) { client in
            let r = try await client.call(.post, "/v3/mail/send", key: world.acmeKey, body: Self.body(#"{"sandbox_mode":{"enable":true}}"#))
            #expect(r.status == .ok)
            #expect(r.body.isEmpty)
            #expect(r.headers[HTTPField.Name("X-Message-Id")!] == nil)
            // Invalid input is refused as for a real send.
            let bad = try await client.call(
                .post, "/v3/mail/send", key: world.acmeKey, body: Self.body(#"{"sandbox_mode":{"enable":true}}"#, content: "[]"))
            #expect(bad.status == .badRequest)
            #expect(try errorItems(bad.body).map(\.0) == ["content"])
            // Off: a real send.
            let real = try await client.call(
                .post, "/v3/mail/send", key: world.acmeKey, body: Self.body(#"{"sandbox_mode":{"enable":false}}"#))
            #expect(real.status == .accepted)
        }
        #expect(try await world.store.queueCounts() == ["queued": 1], "only the real send was queued")
        #expect(try await world.store.events(userID: nil, limit: 10).count == 1, "one processed event, of the real send")
    }

    @Test(arguments: [
        (#"{"sandbox_mode":{"enable":"yes"}}"#, "mail_settings.sandbox_mode.enable"),
        (#"{"sandbox_mode":true}"#, "mail_settings.sandbox_mode"),
        (#""on""#, "mail_settings"),
    ])
    func malformedSettingsAreRefused(_ settings: String, _ field: String) async throws {
        let world = try await World.make(); defer { world.remove() }
        try await world.app().test(.router) { client in
            let r = try await client.call(.post, "/v3/mail/send", key: world.acmeKey, body: Self.body(settings))
            #expect(r.status == .badRequest)
            #expect(try errorItems(r.body).map(\.0) == [field])
        }
        #expect(try await world.store.queueCounts().isEmpty)
    }
}
