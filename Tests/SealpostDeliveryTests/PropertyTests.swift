import PropertyBased
import Testing

@testable import SealpostCore
@testable import SealpostDelivery
@testable import SealpostSMTP

/// Property-based tests (swift-property-based, with shrinking) of the two pieces that face
/// untrusted bytes: the SMTP reply parser and DATA dot-stuffing.
@Suite struct PropertyTests {
    static let text = Gen.oneOf(Gen.letterOrNumber, Gen.always(Character(" ")), Gen.always(Character("-")), Gen.always(Character(".")))
        .string(of: 0...20)

    @Test func wellFormedMultiLineRepliesParseBack() async {
        await propertyCheck(count: 300, input: Gen.int(in: 200...599), Self.text.array(of: 1...10)) { code, lines in
            var parser = SMTPReplyParser()
            var replies: [SMTPReply] = []
            for (i, line) in lines.enumerated() {
                let separator = i == lines.count - 1 ? " " : "-"
                if let r = try? parser.feed("\(code)\(separator)\(line)") { replies.append(r) }
            }
            #expect(replies == [SMTPReply(code: code, lines: lines)])
        }
    }

    @Test func arbitraryLinesNeverYieldAnInvalidReply() async {
        let any = Gen.oneOf(Gen.letterOrNumber, Gen.always(Character(" ")), Gen.always(Character("-")), Gen.always(Character("\u{0}")))
            .string(of: 0...12).array(of: 1...8)
        await propertyCheck(count: 500, input: any) { lines in
            var parser = SMTPReplyParser()
            for line in lines {
                if let reply = try? parser.feed(line) {
                    #expect((200...599).contains(reply.code))
                    #expect(reply.lines.count <= SMTPReplyParser.maxLines)
                }
            }
        }
    }

    @Test func dotStuffingRoundTripsAndNeverEndsDataEarly() async {
        let body = Gen.oneOf(Gen.letterOrNumber, Gen.always(Character(".")), Gen.always(Character("\n")), Gen.always(Character("\r")))
            .string(of: 0...60)
        await propertyCheck(count: 500, input: body) { text in
            let out = dotStuffed(Array(text.utf8))
            let terminator: [UInt8] = [0x0D, 0x0A, 0x2E, 0x0D, 0x0A]
            // Bytes, not Characters: "\r\n" is a single Character in Swift.
            let full = [0x0D, 0x0A] + out  // DATA starts at a line start
            var hits = 0
            if full.count >= terminator.count {
                for i in 0...(full.count - terminator.count) where Array(full[i..<(i + terminator.count)]) == terminator { hits += 1 }
            }
            #expect(hits == 1 && Array(full.suffix(terminator.count)) == terminator, "terminator only at the end: \(text.debugDescription)")
            // Undoing the stuffing gives the input with every line end made CRLF.
            var lines = split(Array(out.dropLast(3)))
            if lines.last == [] { lines.removeLast() }
            let unstuffed = lines.map { $0.first == 0x2E ? Array($0.dropFirst()) : $0 }
            var expected = split(normalize(Array(text.utf8)))
            if expected.last == [] { expected.removeLast() }
            #expect(unstuffed == expected, "\(text.debugDescription)")
        }
    }

    /// Lines of a CRLF-delimited byte string.
    func split(_ bytes: [UInt8]) -> [[UInt8]] {
        var lines: [[UInt8]] = [[]]
        var i = 0
        while i < bytes.count {
            if bytes[i] == 0x0D, i + 1 < bytes.count, bytes[i + 1] == 0x0A {
                lines.append([])
                i += 2
            } else {
                lines[lines.count - 1].append(bytes[i])
                i += 1
            }
        }
        return lines
    }

    /// CRLF, lone CR and lone LF all become CRLF.
    func normalize(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            if bytes[i] == 0x0D || bytes[i] == 0x0A {
                out += [0x0D, 0x0A]
                if bytes[i] == 0x0D, i + 1 < bytes.count, bytes[i + 1] == 0x0A { i += 1 }
            } else {
                out.append(bytes[i])
            }
            i += 1
        }
        return out
    }
}
