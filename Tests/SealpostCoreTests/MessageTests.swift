import Foundation
import Testing

@testable import SealpostCore

@Suite struct DotStuffingTests {
    func stuffed(_ s: String) -> String { String(decoding: dotStuffed(Array(s.utf8)), as: UTF8.self) }

    @Test func linesStartingWithADotAreDoubled() {
        #expect(stuffed("a\r\n.b\r\n..c\r\n") == "a\r\n..b\r\n...c\r\n.\r\n")
        #expect(stuffed(".") == "..\r\n.\r\n")
    }

    @Test func bareLineEndsBecomeCRLFSoNothingEndsDATAEarly() {
        // "\n.\n" would end DATA on a lenient server (SMTP smuggling): it must become "\r\n..\r\n".
        #expect(stuffed("x\n.\nsmuggled") == "x\r\n..\r\nsmuggled\r\n.\r\n")
        #expect(stuffed("x\r.\rq") == "x\r\n..\r\nq\r\n.\r\n")
        #expect(stuffed("") == ".\r\n")
    }
}

@Suite struct ComposerTests {
    @Test func composesHeadersAndAlternativeParts() {
        let request = MailRequest(
            personalizations: [
                MailPersonalization(
                    to: [MailAddress(email: "to@example.test", name: "Tö Person")], cc: [MailAddress(email: "cc@example.test")],
                    bcc: [MailAddress(email: "hidden@example.test")], headers: ["X-Trace": "abc"])
            ],
            from: MailAddress(email: "from@sender.test", name: "Sender"), subject: "Héllo",
            content: [MailContent(type: "text/plain", value: "plain\n.dot"), MailContent(type: "text/html", value: "<p>hi</p>")])
        let text = String(
            decoding: MessageComposer(heloName: "relay.test").compose(
                request, personalization: request.personalizations[0],
                messageID: "abc.0@relay.test", date: Date(timeIntervalSince1970: 0)), as: UTF8.self)
        #expect(text.contains("From: Sender <from@sender.test>\r\n"))
        #expect(text.contains("To: =?UTF-8?B?"))
        #expect(text.contains("Cc: cc@example.test\r\n"))
        #expect(!text.contains("hidden@example.test"), "Bcc never appears in the message")
        #expect(text.contains("Subject: =?UTF-8?B?\(Data("Héllo".utf8).base64EncodedString())?="))
        #expect(text.contains("Message-ID: <abc.0@relay.test>\r\n"))
        #expect(text.contains("Date: Thu, 01 Jan 1970 00:00:00 +0000\r\n"))
        #expect(text.contains("X-Trace: abc\r\n"))
        #expect(text.contains("multipart/alternative"))
        #expect(text.contains("plain\r\n.dot"))
        #expect(request.personalizations[0].recipients.map(\.email) == ["to@example.test", "cc@example.test", "hidden@example.test"])
    }

    @Test func noFieldCanInjectAHeader() {
        let request = MailRequest(
            personalizations: [MailPersonalization(to: [MailAddress(email: "to@example.test", name: "Eve\r\nBcc: victim@example.test")])],
            from: MailAddress(email: "from@sender.test", name: "A\nX-Injected: 1"), subject: "S\r\nX-Injected: 2",
            content: [MailContent(type: "text/plain", value: "v")])
        let text = String(
            decoding: MessageComposer(heloName: "relay.test").compose(
                request, personalization: request.personalizations[0],
                messageID: "m@relay.test", date: Date()), as: UTF8.self)
        let headerBlock = text.components(separatedBy: "\r\n\r\n")[0]
        // Split at every CR and every LF alone: a bare-LF injection would show up as a line here.
        let lines = headerBlock.unicodeScalars.split(whereSeparator: { $0 == "\r" || $0 == "\n" }).map {
            String(String.UnicodeScalarView($0))
        }
        #expect(
            lines.prefix(3) == [
                #"From: "A X-Injected: 1" <from@sender.test>"#,
                #"To: "Eve  Bcc: victim@example.test" <to@example.test>"#,
                "Subject: S  X-Injected: 2",
            ])
        for line in lines {
            #expect(!line.hasPrefix("Bcc:") && !line.hasPrefix("X-Injected"), "\(line)")
        }
        #expect(headerBlock.components(separatedBy: "\r\n").count == lines.count, "every line ends in CRLF, none in a bare CR or LF")
    }
}

/// SendGrid's content order in multipart/alternative: text/plain first, text/html last, the
/// rest between them in the order given, whatever order the request lists them in.
@Suite struct ContentOrderTests {
    @Test func plainFirstHTMLLastOthersInOrder() {
        let request = MailRequest(
            personalizations: [MailPersonalization(to: [MailAddress(email: "to@example.test")])],
            from: MailAddress(email: "from@sender.test"), subject: "s",
            content: [
                MailContent(type: "text/html", value: "<p>h</p>"), MailContent(type: "text/x-amp-html", value: "amp"),
                MailContent(type: "text/calendar", value: "cal"), MailContent(type: "text/plain", value: "plain"),
                MailContent(type: "text/plain", value: "second plain"),
            ])
        let text = String(
            decoding: MessageComposer(heloName: "relay.test").compose(
                request, personalization: request.personalizations[0], messageID: "m@relay.test", date: Date(timeIntervalSince1970: 0)),
            as: UTF8.self)
        let types = text.components(separatedBy: "\r\n").filter { $0.hasPrefix("Content-Type: text/") }
        #expect(
            types == [
                "Content-Type: text/plain; charset=utf-8", "Content-Type: text/plain; charset=utf-8",
                "Content-Type: text/x-amp-html; charset=utf-8", "Content-Type: text/calendar; charset=utf-8",
                "Content-Type: text/html; charset=utf-8",
            ])
        // A repeated type is kept, in the order given.
        #expect(text.range(of: "\r\nplain\r\n")!.lowerBound < text.range(of: "second plain")!.lowerBound)
    }
}

/// The MIME tree with attachments: mixed(alternative(plain, related(html, inline)), attachment).
@Suite struct AttachmentCompositionTests {
    static func compose(_ request: MailRequest) -> String {
        String(
            decoding: MessageComposer(heloName: "relay.test").compose(
                request, personalization: request.personalizations[0], messageID: "abcdefghijklmnopqrstuv.0@relay.test",
                date: Date(timeIntervalSince1970: 0)), as: UTF8.self)
    }

    static let binary: [UInt8] = (0...255).map { UInt8($0) } + [0x0D, 0x0A, 0x2E, 0x0D, 0x0A]

    @Test func mixedRelatedAlternativeInThatOrder() throws {
        let request = MailRequest(
            personalizations: [MailPersonalization(to: [MailAddress(email: "to@example.test")])],
            from: MailAddress(email: "from@sender.test"), subject: "s",
            content: [MailContent(type: "text/html", value: "<img src=\"cid:logo\">"), MailContent(type: "text/plain", value: "p")],
            attachments: [
                MailAttachment(content: Self.binary, filename: "data.bin"),
                MailAttachment(content: [1, 2, 3], type: "image/png", filename: "logo.png", disposition: .inline, contentID: "logo"),
            ])
        let text = Self.compose(request)
        let contentTypes = text.replacingOccurrences(of: "\r\n ", with: " ").components(separatedBy: "\r\n").filter {
            $0.hasPrefix("Content-Type:")
        }
        #expect(
            contentTypes == [
                "Content-Type: multipart/mixed; boundary=\"sealpost-abcdefghijklmnopqrstuv-3\"",
                "Content-Type: multipart/alternative; boundary=\"sealpost-abcdefghijklmnopqrstuv-2\"",
                "Content-Type: text/plain; charset=utf-8",
                "Content-Type: multipart/related; boundary=\"sealpost-abcdefghijklmnopqrstuv-1\"",
                "Content-Type: text/html; charset=utf-8",
                "Content-Type: image/png; name=\"logo.png\"",
                "Content-Type: application/octet-stream; name=\"data.bin\"",
            ])
        #expect(
            text.contains(
                "Content-Disposition: inline; filename=\"logo.png\"\r\nContent-Transfer-Encoding: base64\r\nContent-ID: <logo>\r\n"))
        #expect(text.contains("Content-Disposition: attachment; filename=\"data.bin\"\r\n"))
        // The attachment's base64, wrapped at 76, decodes back to the very bytes.
        let start = try #require(text.range(of: "filename=\"data.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n")).upperBound
        let encoded = text[start...].prefix(while: { $0 != "-" }).replacingOccurrences(of: "\r\n", with: "")
        #expect(Data(base64Encoded: encoded).map(Array.init) == Self.binary)
        #expect(text.hasSuffix("--sealpost-abcdefghijklmnopqrstuv-3--\r\n"))
    }

    @Test func inlineWithoutHTMLStaysInTheMessage() {
        let request = MailRequest(
            personalizations: [MailPersonalization(to: [MailAddress(email: "to@example.test")])],
            from: MailAddress(email: "from@sender.test"), subject: "s", content: [MailContent(type: "text/plain", value: "p")],
            attachments: [MailAttachment(content: [1], type: "image/png", filename: "i.png", disposition: .inline, contentID: "i")])
        let text = Self.compose(request)
        #expect(text.contains("Content-Type: multipart/mixed;"))
        #expect(!text.contains("multipart/related"))
        #expect(text.contains("Content-ID: <i>"))
    }
}

/// A message received over SMTP submission: kept as received, trace and missing fields on top,
/// X-SMTPAPI read and removed.
@Suite struct SubmittedMessageTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func prepare(_ text: String) throws(SubmittedMessage.Refusal) -> SubmittedMessage {
        try SubmittedMessage.prepare(
            Array(text.utf8), newMessageID: "new@relay.test", dateHeader: "Fri, 15 Jan 2027 08:00:00 +0000",
            received: "from c by relay.test", now: now)
    }

    @Test func keptAsReceivedWithTraceAndMissingFields() throws {
        let m = try Self.prepare(
            "Subject: s\r\nX-SMTPAPI: {\"category\": \"a\",\r\n  \"unique_args\": {\"k\": \"v\"}}\r\nTo: x@y.test\r\n\r\nbody\r\n")
        #expect(
            String(decoding: m.content, as: UTF8.self)
                == "Received: from c by relay.test\r\nMessage-ID: <new@relay.test>\r\nDate: Fri, 15 Jan 2027 08:00:00 +0000\r\nSubject: s\r\nTo: x@y.test\r\n\r\nbody\r\n"
        )
        #expect(m.smtpID == "<new@relay.test>")
        #expect(m.instructions.categories == ["a"] && m.instructions.customArgs == ["k": "v"])
        let own = try Self.prepare("Message-ID: <own@c.test>\r\nDate: x\r\n\r\nb")
        #expect(
            String(decoding: own.content, as: UTF8.self) == "Received: from c by relay.test\r\nMessage-ID: <own@c.test>\r\nDate: x\r\n\r\nb"
        )
        #expect(own.smtpID == "<own@c.test>")
    }

    @Test func smtpAPIRefusesWhatIsNotImplemented() {
        func reason(_ json: String) -> String? {
            do {
                _ = try Self.prepare("X-SMTPAPI: \(json)\r\n\r\nb")
                return nil
            } catch {
                return error.reason
            }
        }
        #expect(reason(#"{"asm_group_id": 4}"#) == "X-SMTPAPI asm_group_id is not supported by this server")
        #expect(
            reason(#"{"filters": {"clicktrack": {"settings": {"enable": 1}}}}"#)
                == "X-SMTPAPI filters.clicktrack is not supported by this server")
        #expect(reason(#"{"filters": {"clicktrack": {"settings": {"enable": 0}}}, "sub": {}}"#) == nil, "disabled and empty: no effect")
        #expect(reason("not json") == "X-SMTPAPI header is not a JSON object")
        #expect(reason(#"{"send_at": 1800262801}"#) == "X-SMTPAPI send_at: scheduling more than 72 hours in advance is forbidden")
        #expect(reason(#"{"send_at": 1800259200, "category": ["a", "b"], "unknown": 1}"#) == nil)
    }
}
