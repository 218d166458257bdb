import Foundation
import PropertyBased
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
        var rng = Xoshiro(seed: (seed, 0x9E37_79B9_7F4A_7C15, 1, 2))
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

@Suite struct RoutingAndStatusTests {
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
