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
