import Foundation
import Testing

@testable import SealpostCore

/// The bypass switches as parsed from `mail_settings`, and which list a drop names.
@Suite struct SuppressionTests {
    static func mail(_ settings: String) throws -> Result<MailRequest, ValidationFailure> {
        let json = #"""
            {"from":{"email":"a@b.test"},"personalizations":[{"to":[{"email":"c@d.test"}]}],"subject":"s",
             "content":[{"type":"text/plain","value":"v"}],"mail_settings":
            """# + settings + "}"
        let body = try JSONDecoder().decode(MailSendBody.self, from: Data(json.utf8))
        do { return .success(try MailRequestValidator.validate(body, maxRecipients: 10)) } catch { return .failure(error) }
    }

    @Test func bypassSwitchesAreParsed() throws {
        #expect(try Self.mail("{}").get().bypass == .none)
        #expect(try Self.mail(#"{"bypass_bounce_management":{"enable":true}}"#).get().bypass == SuppressionBypass(bounces: true))
        #expect(
            try Self.mail(#"{"bypass_unsubscribe_management":{"enable":true},"bypass_bounce_management":{"enable":false}}"#).get().bypass
                == SuppressionBypass(unsubscribes: true))
        #expect(try Self.mail(#"{"bypass_list_management":{"enable":true}}"#).get().bypass == SuppressionBypass(all: true))
        // SendGrid: bypass_list_management cannot be combined with any other bypass filter.
        guard case .failure(let f) = try Self.mail(#"{"bypass_list_management":{"enable":true},"bypass_spam_management":{"enable":true}}"#)
        else { Issue.record("combined bypass filters were accepted"); return }
        #expect(
            f.errors == [
                FieldError(
                    field: "mail_settings.bypass_list_management",
                    message: "bypass_list_management cannot be combined with bypass_spam_management")
            ])
        guard case .failure(let g) = try Self.mail(#"{"bypass_bounce_management":{"enable":"yes"}}"#) else {
            Issue.record("a non-boolean enable was accepted")
            return
        }
        #expect(g.errors.map(\.field) == ["mail_settings.bypass_bounce_management.enable"])
    }

    @Test func dropReasonsFollowTheSwitches() {
        let all: Set<SuppressionList> = [.bounces, .unsubscribes, .invalidEmails, .blocks]
        #expect(SuppressionBypass.none.dropReason(all) == "Unsubscribed Address")
        #expect(SuppressionBypass.none.dropReason([.bounces, .blocks]) == "Bounced Address")
        #expect(SuppressionBypass.none.dropReason([.blocks]) == nil, "blocks never suppress")
        #expect(SuppressionBypass(unsubscribes: true).dropReason([.unsubscribes, .bounces]) == "Bounced Address")
        #expect(SuppressionBypass(bounces: true).dropReason([.bounces]) == nil)
        #expect(SuppressionBypass(bounces: true).dropReason([.bounces, .invalidEmails]) == "Invalid")
        #expect(SuppressionBypass(all: true).dropReason(all) == nil)
    }
}
