import Foundation
import Testing

@testable import SealpostCore

/// RFC 5322 folding, RFC 2047 encoded-words, RFC 2231 parameters and IDNA, checked against
/// published vectors and by undoing each encoding with Foundation's own decoders.
@Suite struct HeaderTests {
    /// RFC 3492 §7.1 and IDNA test vectors (the same values Python's `idna` codec gives).
    @Test func punycodeVectors() {
        let vectors = [
            ("bücher", "bcher-kva"), ("münchen", "mnchen-3ya"), ("пример", "e1afmkfd"), ("中国", "fiqs8s"),
            ("испытание", "80akhbyknj4f"), ("ドメイン名例", "eckwd4c7cu47r2wf"), ("faß", "fa-hia"), ("ü", "tda"),
        ]
        for (u, a) in vectors {
            #expect(Punycode.encode(u) == a, "\(u)")
            #expect(Punycode.decode(a) == u, "\(a)")
        }
    }

    @Test func domainsBecomeALabelsAndInvalidOnesAreRefused() {
        #expect(IDNA.toASCII("Bücher.example") == "xn--bcher-kva.example")
        #expect(IDNA.toASCII("例え.テスト") != nil)
        #expect(IDNA.toASCII("xn--bcher-kva.example") == "xn--bcher-kva.example")
        #expect(IDNA.toASCII("example.com") == "example.com")
        #expect(IDNA.toASCII("bücher。example") == "xn--bcher-kva.example", "ideographic full stop is a dot")
        #expect(IDNA.toASCII("xn--zz-.example") == nil, "an xn-- label that is not Punycode")
        #expect(IDNA.toASCII("xn--abc.example") == nil, "an xn-- label that decodes to nothing non-ASCII")
        #expect(IDNA.toASCII("☃.example") == nil, "symbols are not IDNA2008 PVALID")
        #expect(IDNA.toASCII("\u{0301}a.example") == nil, "a label may not start with a combining mark")
        #expect(IDNA.toASCII("ü" + String(repeating: "a", count: 60) + ".example") == nil, "A-label over 63 octets")
        #expect(MailRequestValidator.envelopeForm("Jörg@Bücher.example") == "Jörg@xn--bcher-kva.example")
    }

    static func unfold(_ rendered: String) -> String {
        rendered.replacingOccurrences(of: "\r\n ", with: " ").replacingOccurrences(of: "\r\n", with: "")
    }

    @Test func aThousandAddressesFoldIntoShortLines() {
        let addresses = (0..<1000).map { MailAddress(email: "user\($0)@example.test", name: $0 % 3 == 0 ? "Jörg Müller \($0)" : nil) }
        let rendered = MessageComposer.addressField("To", addresses).rendered
        let lines = rendered.components(separatedBy: "\r\n").dropLast()
        #expect(lines.count > 100)
        #expect(lines.allSatisfy { $0.utf8.count <= 78 }, "longest \(lines.map(\.utf8.count).max() ?? 0)")
        #expect(lines.dropFirst().allSatisfy { $0.hasPrefix(" ") })
        let unfolded = Self.unfold(rendered)
        #expect(unfolded.hasPrefix("To: =?UTF-8?B?"))
        #expect(unfolded.contains(", user1@example.test, user2@example.test, =?UTF-8?B?"))
        #expect(unfolded.hasSuffix("<user999@example.test>"))
    }

    @Test func encodedWordsAreShortAndSplitOnCharacters() throws {
        let subject = String(repeating: "Grüße aus Köln, 東京 and 🎉 ", count: 12)
        let field = MessageComposer.textField("Subject", subject)
        let rendered = field.rendered
        #expect(rendered.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 78 })
        var decoded: [UInt8] = []
        for word in field.words {
            #expect(word.text.utf8.count <= 75)
            #expect(word.text.hasPrefix("=?UTF-8?B?") && word.text.hasSuffix("?="))
            let payload = try #require(Data(base64Encoded: String(word.text.dropFirst(10).dropLast(2))))
            // Each word on its own is valid UTF-8: no character was cut in two.
            #expect(String(validating: Array(payload), as: UTF8.self) != nil)
            decoded += payload
        }
        #expect(String(decoding: decoded, as: UTF8.self) == subject)
    }

    @Test func asciiTextFoldsAtItsOwnSpaces() {
        let value = (0..<60).map { "word\($0)" }.joined(separator: " ") + "  double"
        let rendered = MessageComposer.textField("X-Long", value).rendered
        #expect(rendered.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 78 })
        #expect(Self.unfold(rendered) == "X-Long: " + value, "unfolding gives back exactly the value")
        // A word that does not fit in 998 octets cannot be folded: the validator refuses it.
        #expect(HeaderField.longestUnfoldableLine(name: "X-Long", value: String(repeating: "a", count: 991)) == 999)
        let long = MessageComposer.textField("Subject", String(repeating: "a", count: 2000)).rendered
        #expect(long.components(separatedBy: "\r\n").allSatisfy { $0.utf8.count <= 78 }, "a Subject becomes encoded-words")
    }

    @Test func fileNamesUseRFC2231() {
        #expect(ExtendedParameter.words("filename", "report.pdf") == [.init("filename=\"report.pdf\"", glue: ";")])
        #expect(ExtendedParameter.words("filename", "a\"b.txt") == [.init("filename=\"a\\\"b.txt\"", glue: ";")])
        #expect(ExtendedParameter.words("filename", "Grüße.txt") == [.init("filename*=UTF-8''Gr%C3%BC%C3%9Fe.txt", glue: ";")])
        let long = ExtendedParameter.words("filename", String(repeating: "é", count: 40) + ".txt")
        #expect(long.count > 1)
        #expect(long[0].text.hasPrefix("filename*0*=UTF-8''%C3%A9"))
        #expect(long[1].text.hasPrefix("filename*1*=%C3%A9"))
        let joined = long.enumerated().map { i, w in String(w.text.drop(while: { $0 != "=" }).dropFirst()) }.joined()
        #expect(joined.replacingOccurrences(of: "UTF-8''", with: "").removingPercentEncoding == String(repeating: "é", count: 40) + ".txt")
        #expect(long.allSatisfy { $0.text.utf8.count <= 76 })
    }
}

/// RFC 8689's `TLS-Required: No`: only as a header field, any case, folded or not.
@Suite struct TLSRequiredHeaderTests {
    @Test func onlyTheHeaderFieldWaives() {
        func waives(_ text: String) -> Bool { TLSRequiredHeader.waivesRecipientPolicies(Array(text.utf8)) }
        #expect(waives("From: a@b.test\r\nTLS-Required: No\r\n\r\nbody\r\n"))
        #expect(waives("tls-required:\r\n  no \r\nSubject: s\r\n\r\nbody\r\n"))
        #expect(!waives("TLS-Required: Yes\r\n\r\nbody\r\n"))
        #expect(!waives("From: a@b.test\r\n\r\nTLS-Required: No\r\n"), "in the body it is text")
        #expect(!waives("X-TLS-Required: No\r\n\r\n"))
        #expect(waives("From: a@b.test\r\ntLs-ReQuIrEd: nO\r\n\r\n"))
    }

    /// The byte scan only skips the parse when the parse would find nothing: over seeded random
    /// header blocks made of pieces of the field (any case, folded, near misses), the answer is
    /// the parse's, and every block the parse finds the field in is one the scan lets through.
    @Test func theScanNeverHidesTheField() {
        let seed = UInt64.random(in: 0...UInt64.max)
        print("TLSRequiredHeaderTests seed \(seed)")
        var rng = SplitMix(state: seed)
        let names = ["TLS-Required", "tls-required", "TlS-rEqUiReD", "TLS-Require", "TLS_Required", "X-TLS-Required", "Subject", "t"]
        let separators = [":", ": ", " :", ":\r\n ", ":\t", ""]
        let values = ["No", "no", " NO ", "Yes", "N o", "no\r\n more", "é", ""]
        let ends = ["\r\n", "\n", "\r\n\t"]
        var found = 0
        for _ in 0..<3000 {
            var text = ""
            for _ in 0..<Int.random(in: 1...5, using: &rng) {
                for part in [names, separators, values, ends] { text += part[Int.random(in: 0..<part.count, using: &rng)] }
            }
            text += "\r\n\r\nbody TLS-Required: No\r\n"
            let bytes = Array(text.utf8)
            let header = bytes[..<SubmittedMessage.headerBlockEnd(bytes)]
            let parsed = TLSRequiredHeader.parsedWaiver(header)
            if parsed {
                found += 1
                #expect(TLSRequiredHeader.mentionsName(header), "\(text.debugDescription)")
            }
            #expect(TLSRequiredHeader.waivesRecipientPolicies(bytes) == parsed, "\(text.debugDescription)")
        }
        #expect(found > 20, "the generator must produce the field often enough to test anything")
    }
}
