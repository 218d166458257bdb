import Foundation
import Testing

@testable import SealpostCore

@Suite struct EventIDTests {
    /// The hand-rolled encoder gives exactly RFC 4648's base64url of the 16 bytes, unpadded.
    @Test func base64URLMatchesFoundationsEncoding() {
        let seed = UInt64.random(in: 0...UInt64.max)
        print("EventIDTests seed \(seed)")
        var rng = SplitMix(state: seed)
        let fixed: [(UInt64, UInt64)] = [(0, 0), (.max, .max), (0xFBFF_BF00_0102_0304, 0xF0F0_FEFF_3E3F_4041)]
        for (high, low) in fixed + (0..<500).map({ _ in (rng.next(), rng.next()) }) {
            var bytes: [UInt8] = []
            for word in [high, low] { withUnsafeBytes(of: word.bigEndian) { bytes.append(contentsOf: $0) } }
            let expected = Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(EventFactory.base64URL(high, low) == expected, "\(high) \(low)")
        }
        #expect(EventFactory.base64URL(.max, .max) == "_____________________w")
    }

    /// The first 44 bits are the event's time in milliseconds (so events made together share a
    /// prefix and a page of the unique index); the other 84 are random.
    @Test func idsStartWithTheirMillisecond() throws {
        let now = Date(timeIntervalSince1970: 1_796_593_451.125)
        let ids = (0..<200).map { _ in EventFactory.newEventID(now: now) }
        #expect(Set(ids).count == 200)
        for id in ids {
            var b64 = id.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            b64 += "=="
            let bytes = try #require(Data(base64Encoded: b64))
            #expect(bytes.count == 16)
            let high = bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            #expect(high >> 20 == 1_796_593_451_125)
        }
        // Same millisecond: the same first seven characters (42 bits); the random part differs.
        #expect(Set(ids.map { $0.prefix(7) }).count == 1)
        #expect(Set(ids.map { $0.suffix(14) }).count == 200)
        // A second later, a different prefix.
        #expect(EventFactory.newEventID(now: now.addingTimeInterval(1)).prefix(7) != ids[0].prefix(7))
    }

    @Test func newIDsAreURLSafeAndDistinct() {
        let ids = (0..<1000).map { _ in EventFactory.newEventID() }
        #expect(Set(ids).count == 1000)
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        #expect(ids.allSatisfy { $0.count == 22 && $0.allSatisfy(allowed.contains) })
    }
}

/// A seeded generator (SplitMix64), so a failing case can be replayed from the printed seed.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1330_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct EventJSONTests {
    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return e
    }()

    /// The hand-written event JSON equals Foundation's encoding of the same payload, byte for
    /// byte, over seeded random payloads: custom args with hostile keys and values (quotes,
    /// backslashes, slashes, control characters, non-ASCII, keys that collide with reserved
    /// ones), every optional field set or not, categories and a `tls_failure`.
    @Test func equalsFoundationsEncoding() throws {
        let seed = UInt64.random(in: 0...UInt64.max)
        print("EventJSONTests seed \(seed)")
        var rng = SplitMix(state: seed)
        let pieces = [
            "a", "Z", "_", "-", "9", "10", "\"", "\\", "/", "\n", "\r", "\t", "\u{8}", "\u{c}", "\u{1}", "\u{1f}", "\u{7f}",
            "é", "ß", "\u{2028}", "😀", "event", "email", "tls", " ", "<>&",
        ]
        func text(_ max: Int) -> String {
            (0..<Int.random(in: 0...max, using: &rng)).map { _ in pieces.randomElement(using: &rng)! }.joined()
        }
        func maybe(_ s: @autoclosure () -> String) -> String? { Bool.random(using: &rng) ? s() : nil }
        for _ in 0..<400 {
            var args: [String: String] = [:]
            for _ in 0..<Int.random(in: 0...5, using: &rng) { args[text(4)] = text(6) }
            let subject = EventFactory.Subject(
                userID: 1, email: text(5), messageID: text(3), smtpID: text(3),
                categories: (0..<Int.random(in: 0...3, using: &rng)).map { _ in text(3) }, customArgs: args)
            var fields = EventFields(
                response: maybe(text(5)), attempt: maybe("2"), tls: Bool.random(using: &rng) ? Int.random(in: 0...1, using: &rng) : nil,
                tlsVersion: maybe("TLSv1.3"), tlsCipher: maybe(text(2)), mx: maybe(text(3)), type: maybe("blocked"),
                reason: maybe(text(5)), status: maybe("5.7.1"))
            if Bool.random(using: &rng) {
                fields.tlsFailure = TLSFailureDetail(
                    resultType: text(2), policy: "dane", requiredLevel: "verify", minimumVersion: maybe("1.2"), mxHost: maybe(text(2)))
            }
            fields.tlsPolicy = maybe("dane")
            fields.tlsPolicyViolation = maybe(text(2))
            fields.tlsRecorded = Bool.random(using: &rng) ? [text(2), text(2)] : nil
            let payload = EventPayload(
                event: text(2), subject: subject, timestamp: Int.random(in: 0...2_000_000_000, using: &rng), sgEventID: text(2),
                fields: fields)
            let expected = String(decoding: try Self.encoder.encode(payload), as: UTF8.self)
            #expect(payload.json() == expected)
        }
    }
}
