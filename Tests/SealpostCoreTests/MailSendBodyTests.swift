import Foundation
import Testing

@testable import SealpostCore

/// The typed mail-send body: wrong types anywhere are captured, never a decoding failure, and
/// the validator names each field with SendGrid's text.
@Suite struct MailSendBodyTests {
    static func errors(_ json: String) throws -> [FieldError] {
        let body = try JSONDecoder().decode(MailSendBody.self, from: Data(json.utf8))
        do {
            _ = try MailRequestValidator.validate(body, maxRecipients: 1000)
            return []
        } catch {
            return error.errors
        }
    }

    static let valid = #""content":[{"type":"text/plain","value":"v"}],"subject":"s""#

    @Test func wrongTypesAreNamedNotFatal() throws {
        let e = try Self.errors(
            #"""
            {"from":"a@b.test","reply_to":null,"personalizations":[7,{"to":["x",{"email":"ok@b.test","name":null}],"send_at":true}],
             "categories":["1","2","3","4","5","6","7","8","9","10","11"],"headers":{"X-A":1},"send_at":"soon",
            """# + Self.valid + "}")
        let fields = e.map { $0.field ?? "-" }
        #expect(
            fields == [
                "from.email", "reply_to.email", "personalizations.0", "personalizations.1.to.0.email", "personalizations.1.to.1.name",
                "personalizations.1.send_at", "categories", "headers.X-A", "send_at",
            ])
        #expect(e[0].message == MailRequestValidator.fromMessage)
        #expect(e[1].message == MailRequestValidator.addressMessage)
        #expect(e[2].message == "Each personalization must be an object.")
        #expect(e[4].message == "name must be a string")
        #expect(e[5].message == "send_at must be a Unix timestamp")
        #expect(e[6].message == "categories must be an array of at most 10 strings")
        #expect(e[7].message == "headers values must be strings")
    }

    @Test func aValidBodyBecomesTheRequest() throws {
        let body = try JSONDecoder().decode(
            MailSendBody.self,
            from: Data(
                (#"""
                {"from":{"email":"a@b.test","name":"A"},"personalizations":[{"to":[{"email":"c@d.test"}],"custom_args":{"k":"v"}}],
                 "categories":["x"],"send_at":1700000000,"unknown_key":{"ignored":true},
                """# + Self.valid + "}").utf8))
        let mail = try MailRequestValidator.validate(body, maxRecipients: 1000)
        #expect(mail.from == MailAddress(email: "a@b.test", name: "A"))
        #expect(mail.personalizations.map(\.recipients) == [[MailAddress(email: "c@d.test")]])
        #expect(mail.personalizations[0].customArgs == ["k": "v"])
        #expect(mail.categories == ["x"] && mail.sendAt == 1_700_000_000 && mail.subject == "s")
    }

    @Test func notAnObjectIsTheOnlyDecodingFailure() {
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(MailSendBody.self, from: Data("[1]".utf8)) }
        #expect(throws: Never.self) { try JSONDecoder().decode(MailSendBody.self, from: Data(#"{"personalizations":"x"}"#.utf8)) }
    }
}
