import Foundation
import Testing

@testable import SealpostCore
@testable import SealpostDelivery
@testable import SealpostSMTP

@Suite struct ReplyParserTests {
    func parse(_ lines: [String]) throws -> [SMTPReply] {
        var parser = SMTPReplyParser()
        return try lines.compactMap { try parser.feed($0) }
    }

    @Test func singleAndMultiLine() throws {
        #expect(try parse(["220 mx.test ESMTP"]) == [SMTPReply(code: 220, lines: ["mx.test ESMTP"])])
        let ehlo = try parse(["250-mx.test", "250-PIPELINING", "250-SIZE 10240000", "250-STARTTLS", "250 8BITMIME"])
        #expect(ehlo.count == 1)
        let caps = SMTPCapabilities(ehlo: ehlo[0])
        #expect(caps.startTLS && caps.pipelining && caps.eightBitMIME && !caps.smtpUTF8)
        #expect(caps.sizeLimit == 10_240_000)
    }

    @Test func bareCodeLinesAndEmptyText() throws {
        // smtp-sink ends its EHLO reply with a bare "250 ".
        #expect(try parse(["250-sink", "250 "]) == [SMTPReply(code: 250, lines: ["sink", ""])])
        #expect(try parse(["354"]) == [SMTPReply(code: 354, lines: [""])])
    }

    @Test func enhancedStatusCodes() throws {
        #expect(try parse(["550 5.1.1 <a@b> user unknown"])[0].enhancedStatus == "5.1.1")
        #expect(try parse(["250 2.0.0 Ok: queued"])[0].enhancedStatus == "2.0.0")
        #expect(try parse(["250 Ok"])[0].enhancedStatus == nil)
        #expect(try parse(["421 4.7.0 try later"])[0].isTransientFailure)
        #expect(try parse(["550 6.1.1 nope"])[0].enhancedStatus == nil)
        // Class must match the reply's (RFC 2034): found by scripts/fuzz.
        #expect(try parse(["242 5.7.1 odd"])[0].enhancedStatus == nil)
        #expect(try parse(["451 5.7.1 odd"])[0].enhancedStatus == nil)
    }

    @Test(arguments: ["", "25", "abc hello", "150 not a code", "650 bad", "250x", "2500 too long"])
    func malformedLinesAreRejected(line: String) {
        var parser = SMTPReplyParser()
        #expect(throws: SMTPReplyError.self) { try parser.feed(line) }
    }

    @Test func codeMustNotChangeInsideAReply() throws {
        var parser = SMTPReplyParser()
        #expect(try parser.feed("250-first") == nil)
        #expect(throws: SMTPReplyError.codeChanged(expected: 250, got: 251)) { try parser.feed("251 second") }
    }

    @Test func endlessMultiLineRepliesAreBounded() throws {
        var parser = SMTPReplyParser()
        for _ in 0..<SMTPReplyParser.maxLines { _ = try parser.feed("250-more") }
        #expect(throws: SMTPReplyError.tooManyLines(SMTPReplyParser.maxLines)) { try parser.feed("250-more") }
    }

    @Test func propertyArbitraryLinesNeverCrash() {
        let seed = UInt64.random(in: 1...UInt64.max)
        print("propertyArbitraryLinesNeverCrash seed \(seed)")
        var rng = SeededGenerator(seed: seed)
        let alphabet = Array("0123456789 -abcXYZ.\t\u{0}é")
        for _ in 0..<5000 {
            var parser = SMTPReplyParser()
            for _ in 0..<Int.random(in: 1...6, using: &rng) {
                let line = String((0..<Int.random(in: 0...12, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! })
                if let reply = try? parser.feed(line) {
                    #expect((200...599).contains(reply.code))
                }
            }
        }
    }
}

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

@Suite struct ComposerAndRoutingTests {
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

    @Test func routes() {
        #expect(
            NextHopResolver.parseRoute("Example.COM=mx.example.net:2525")! == ("example.com", NextHop(host: "mx.example.net", port: 2525)))
        #expect(NextHopResolver.parseRoute("a.test=localhost")! == ("a.test", NextHop(host: "localhost", port: 25)))
        #expect(NextHopResolver.parseRoute("a.test=[::1]:2525")! == ("a.test", NextHop(host: "::1", port: 2525)))
        #expect(NextHopResolver.parseRoute("nonsense") == nil)
        #expect(NextHopResolver.parseRoute("a.test=host:99999") == nil)
    }

    /// One enhanced-status parser (`SMTPReply.enhancedStatus`), with the class's generic
    /// status only where the server gave none.
    @Test func eventStatusComesFromTheReply() {
        #expect(OutcomeRecorder.status(SMTPReply(code: 550, lines: ["5.1.1 user unknown"])) == "5.1.1")
        #expect(OutcomeRecorder.status(SMTPReply(code: 550, lines: ["user unknown"])) == "5.0.0")
        #expect(OutcomeRecorder.status(SMTPReply(code: 550, lines: ["5.7.1 <a@b> denied", "more"])) == "5.7.1")
        #expect(OutcomeRecorder.status(SMTPReply.local(451, "4.4.1", "timeout"), permanent: true) == "5.4.7")
    }
}
