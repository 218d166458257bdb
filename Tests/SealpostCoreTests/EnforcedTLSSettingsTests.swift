import Foundation
import Testing

@testable import SealpostCore

@Suite struct EnforcedTLSSettingsTests {
    @Test func defaultIsOpportunisticAtTLS11() {
        #expect(EnforcedTLSSettings.default.json == #"{"require_tls":false,"require_valid_cert":false,"version":1.1}"#)
    }

    @Test(arguments: [(1.1, TLSVersion.v1_1), (1.2, .v1_2), (1.3, .v1_3)])
    func versionFromJSONNumber(number: Double, expected: TLSVersion) throws {
        // The number as a JSON decoder produces it, not as a Swift literal: that is what requests carry.
        let decoded = try JSONDecoder().decode([Double].self, from: Data("[\(expected.rawValue)]".utf8))[0]
        #expect(TLSVersion(number: decoded) == expected)
        #expect(TLSVersion(number: number) == expected)
    }

    @Test(arguments: [1.0, 1.15, 1.4, 2.0, 11, -1.1, 0])
    func versionRejectsOtherNumbers(number: Double) {
        #expect(TLSVersion(number: number) == nil)
    }

    @Test func versionFromText() {
        #expect(TLSVersion(text: "1.2") == .v1_2)
        #expect(TLSVersion(text: " 1.3 ") == .v1_3)
        #expect(TLSVersion(text: "1.4") == nil)
        #expect(TLSVersion(text: "TLSv1.2") == nil)
    }

    @Test func versionsAreOrdered() {
        #expect(TLSVersion.v1_1 < .v1_2 && TLSVersion.v1_2 < .v1_3)
        #expect(TLSVersion.allCases.sorted() == [.v1_1, .v1_2, .v1_3])
    }

    @Test func jsonWritesVersionAsExactNumber() throws {
        for version in TLSVersion.allCases {
            let json = EnforcedTLSSettings(requireTLS: true, requireValidCert: false, version: version).json
            #expect(json.hasSuffix("\"version\":\(version.rawValue)}"))
            // Parses back as a number equal to the literal, never 1.1000000000000001.
            let object = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
            #expect((object?["version"] as? NSNumber)?.doubleValue == Double(version.rawValue))
        }
    }

    @Test func codableRoundTripAcceptsNumberAndString() throws {
        let s = EnforcedTLSSettings(requireTLS: true, requireValidCert: true, version: .v1_3)
        #expect(try JSONDecoder().decode(EnforcedTLSSettings.self, from: Data(s.json.utf8)) == s)
        let text = #"{"require_tls":true,"require_valid_cert":true,"version":"1.3"}"#
        #expect(try JSONDecoder().decode(EnforcedTLSSettings.self, from: Data(text.utf8)) == s)
    }

    @Test func patchKeepsAbsentFields() {
        let base = EnforcedTLSSettings(requireTLS: true, requireValidCert: false, version: .v1_2)
        #expect(base.applying(EnforcedTLSPatch()) == base)
        #expect(EnforcedTLSPatch().isEmpty)
        #expect(
            base.applying(EnforcedTLSPatch(requireValidCert: true))
                == EnforcedTLSSettings(requireTLS: true, requireValidCert: true, version: .v1_2))
        #expect(
            base.applying(EnforcedTLSPatch(requireTLS: false, version: .v1_3))
                == EnforcedTLSSettings(requireTLS: false, requireValidCert: false, version: .v1_3))
    }
}
