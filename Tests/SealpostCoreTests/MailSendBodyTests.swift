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
        #expect(e[5].message == MailRequestValidator.sendAtMessage)
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

    static func fields(_ json: String) throws -> [String: String] {
        var out: [String: String] = [:]
        for e in try errors(json) { out[e.field ?? "-"] = e.message }
        return out
    }

    static let minimal = #""from":{"email":"a@b.test"},"personalizations":[{"to":[{"email":"c@d.test"}]}],"# + valid

    @Test func attachmentsAreCheckedFieldByField() throws {
        let e = try Self.fields(
            "{" + Self.minimal
                + #"""
                ,"attachments":[{"content":"not base64!","filename":"a"},{"content":"aGk="},{"content":"aGk=","filename":"x","disposition":"inline"},
                 {"content":"aGk=","filename":"x","disposition":"sideways"},{"content":"aGk=","filename":"x","type":"text/plain; charset=x"},
                 {"content":"","filename":"x"},{"content":"aGk=","filename":"a\r\nb"},"nope"]}
                """#)
        #expect(e["attachments.0.content"] == "The attachment content must be base64 encoded.")
        #expect(e["attachments.1.filename"] == "filename is required.")
        #expect(e["attachments.2.content_id"] == "The content_id is required for an attachment with disposition inline.")
        #expect(
            e["attachments.3.disposition"]
                == "The disposition of your attachment can be either \"inline\" or \"attachment\". You provided `sideways`.")
        #expect(e["attachments.4.type"] == "The type can't contain ';', or CRLF characters.")
        #expect(e["attachments.5.content"] == "The attachment content must be a string at least one character in length.")
        #expect(e["attachments.6.filename"] == "The filename of your attachment can't contain CRLF characters.")
        #expect(e["attachments.7"] == "Each attachment must be an object.")
        #expect(e.count == 8)
    }

    @Test func base64IsStrict() {
        #expect(MailRequestValidator.decodeBase64("aGk=") == Array("hi".utf8))
        #expect(MailRequestValidator.decodeBase64("aGVs\r\nbG8=") == Array("hello".utf8), "MIME line breaks allowed")
        #expect(MailRequestValidator.decodeBase64("AB==") == [0])
        for bad in ["====", "AB=A", "A===", "aGk", "aGk=aGk=", "aG k!", "", "  ", "aGk=="] {
            #expect(MailRequestValidator.decodeBase64(bad) == nil, "\(bad)")
        }
        #expect(MailRequestValidator.isMediaType("text/x-amp-html") && !MailRequestValidator.isMediaType("a*/b"))
    }

    @Test func attachmentBytesAreDecodedExactly() throws {
        let bytes = (0...255).map { UInt8($0) }
        let b64 = Data(bytes).base64EncodedString(options: .lineLength64Characters)
        let body = try JSONDecoder().decode(
            MailSendBody.self,
            from: Data(
                ("{" + Self.minimal
                    + #","attachments":[{"content":"\#(b64.replacingOccurrences(of: "\r\n", with: "\\r\\n"))","filename":"Grüße.bin","disposition":"inline","content_id":"c1@x"}]}"#)
                    .utf8))
        let mail = try MailRequestValidator.validate(body, maxRecipients: 1000)
        #expect(mail.attachments == [MailAttachment(content: bytes, filename: "Grüße.bin", disposition: .inline, contentID: "c1@x")])
    }

    /// Sealpost's `mail_settings.require_tls` (REQUIRETLS, RFC 8689): a switch like SendGrid's.
    @Test func requireTLSIsASwitch() throws {
        func mail(_ settings: String) throws -> MailRequest {
            let body = try JSONDecoder().decode(
                MailSendBody.self, from: Data(("{" + Self.minimal + #","mail_settings":"# + settings + "}").utf8))
            return try MailRequestValidator.validate(body, maxRecipients: 1000)
        }
        #expect(try mail(#"{"require_tls":{"enable":true}}"#).requireTLS)
        #expect(try !mail(#"{"require_tls":{"enable":false}}"#).requireTLS)
        #expect(try !mail(#"{}"#).requireTLS)
        let e = try Self.errors("{" + Self.minimal + #","mail_settings":{"require_tls":{"enable":"yes"}}}"#)
        #expect(e == [FieldError(field: "mail_settings.require_tls.enable", message: "enable must be a boolean")])
    }

    @Test func unsupportedFieldsWithAnEffectAreRefusedByName() throws {
        let refused = try Self.fields(
            #"{"from":{"email":"a@b.test"},"# + Self.valid
                + #"""
                ,"template_id":"d-123","sections":{"a":"b"},"asm":{"group_id":1},"batch_id":"b","ip_pool_name":"p",
                 "tracking_settings":{"click_tracking":{"enable":true},"open_tracking":{"enable":false},"ganalytics":{"enable":"yes"},"made_up":{"enable":true}},
                 "mail_settings":{"footer":{"enable":true,"text":"f"},"bcc":{"enable":false,"email":"x@y.test"},"spam_check":{"enable":true},
                                  "bypass_list_management":{"enable":true},"bypass_spam_management":{"enable":1}},
                 "personalizations":[{"to":[{"email":"c@d.test"}],"substitutions":{"-n-":"1"},"dynamic_template_data":{}}]}
                """#)
        #expect(
            Set(refused.keys) == [
                "template_id", "sections", "asm", "batch_id", "ip_pool_name", "tracking_settings.click_tracking",
                "tracking_settings.ganalytics.enable", "mail_settings.footer", "mail_settings.spam_check",
                "mail_settings.bypass_spam_management.enable", "personalizations.0.substitutions",
            ])
        #expect(refused["template_id"]?.hasPrefix("template_id is not supported by this server") == true)
        #expect(refused["mail_settings.footer"]?.hasPrefix("mail_settings.footer is not supported by this server") == true)
        // Without an effect they are accepted.
        let accepted = try Self.errors(
            "{" + Self.minimal
                + #"""
                ,"template_id":null,"sections":{},"batch_id":"","tracking_settings":{"click_tracking":{"enable":false},"open_tracking":null},
                 "mail_settings":{"footer":{"enable":false,"text":"f"},"bcc":{"enable":false},"sandbox_mode":{"enable":false}}}
                """#)
        #expect(accepted == [])
    }

    @Test func sendGridsOtherRules() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_100)
        func errors(_ json: String) throws -> [String: String] {
            let body = try JSONDecoder().decode(MailSendBody.self, from: Data(json.utf8))
            do {
                _ = try MailRequestValidator.validate(body, maxRecipients: 1000, now: now)
                return [:]
            } catch {
                return Dictionary(error.errors.map { ($0.field ?? "-", $0.message) }, uniquingKeysWith: { a, _ in a })
            }
        }
        let e = try errors(
            #"""
            {"from":{"email":"a@b.test"},"subject":"s","content":[{"type":"text/plain","value":"v"}],
             "send_at":1800262801,"custom_args":{"k":"\#(String(repeating: "x", count: 10_000))"},
             "reply_to":{"email":"r@b.test"},"reply_to_list":[{"email":"r2@b.test"}],"headers":{"Subject":"x","X-Ok":"y"},
             "personalizations":[{"to":[{"email":"c@d.test"},{"email":"C@D.test"}],"send_at":1800262800,"from":{"email":"bad"}},
                                 {"to":[{"email":"x@☃.test"}]}]}
            """#)
        #expect(e["send_at"] == "Scheduling more than 72 hours in advance is forbidden.")
        #expect(e["personalizations.0.send_at"] == nil, "72 hours after the end of the hour is allowed")
        #expect(
            e["personalizations.0"]
                == "Each email address in the personalization block should be unique between to, cc, and bcc. We found the first duplicate instance of [C@D.test] in the personalizations.0.to field."
        )
        #expect(e["personalizations.0.from.email"] == "Does not contain a valid address.")
        #expect(e["personalizations.1.to.0.email"] == MailRequestValidator.idnMessage)
        #expect(e["custom_args"]?.contains("10,000 bytes") == true)
        #expect(e["reply_to_list"] == "reply_to_list cannot be used together with reply_to.")
        #expect(e["headers.Subject"] == "Header can not be one of the reserved keys.")
        #expect(e.count == 7)

        let body = try JSONDecoder().decode(
            MailSendBody.self,
            from: Data(
                #"""
                {"from":{"email":"a@b.test"},"subject":"s","content":[{"type":"text/plain","value":"v"}],
                 "reply_to_list":[{"email":"r1@b.test","name":"One"},{"email":"r2@Bücher.test"}],
                 "personalizations":[{"to":[{"email":"c@Bücher.test"}],"from":{"email":"p@b.test","name":"P"}}]}
                """#.utf8))
        let mail = try MailRequestValidator.validate(body, maxRecipients: 1000, now: now)
        #expect(mail.replyTo == [MailAddress(email: "r1@b.test", name: "One"), MailAddress(email: "r2@xn--bcher-kva.test")])
        #expect(mail.personalizations[0].from == MailAddress(email: "p@b.test", name: "P"))
        #expect(mail.personalizations[0].to == [MailAddress(email: "c@xn--bcher-kva.test")])
    }
}
