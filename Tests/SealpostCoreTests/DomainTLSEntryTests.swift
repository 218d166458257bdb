import Testing

@testable import SealpostCore

@Suite struct DomainTLSEntryTests {
    @Test(arguments: [
        ("Example.COM", "example.com"), (".Example.com", ".example.com"), ("Bücher.test", "xn--bcher-kva.test"),
        (".sub.bücher.test", ".sub.xn--bcher-kva.test"), ("a-b.c0.test", "a-b.c0.test"),
    ])
    func domainsAreNormalised(_ text: String, _ stored: String) {
        #expect(DomainTLSEntry.normalize(text) == stored)
    }

    @Test(arguments: [
        "", ".", "..example.com", "example.com.", "localhost", "192.0.2.1", "[192.0.2.1]", "example.com:25", "exa mple.com",
        "-a.example.com", "a_b.example.com", "::1", "☃.test", "a..b.test", "@example.com", "a.1com",
    ])
    func nonDomainsAreRefused(_ text: String) {
        #expect(DomainTLSEntry.normalize(text) == nil)
    }

    @Test func exactWinsThenTheNearestDotEntry() {
        let strict = EnforcedTLSSettings(requireTLS: true, requireValidCert: true, version: .v1_2)
        let loose = EnforcedTLSSettings.default
        let tls = EnforcedTLSSettings(requireTLS: true, requireValidCert: false, version: .v1_1)
        let entries = [
            DomainTLSEntry(domain: ".example.com", settings: tls), DomainTLSEntry(domain: "example.com", settings: loose),
            DomainTLSEntry(domain: ".b.example.com", settings: strict),
        ]
        #expect(DomainTLSEntry.governing("example.com", in: entries)?.settings == loose)
        #expect(DomainTLSEntry.governing("EXAMPLE.com", in: entries)?.settings == loose)
        #expect(DomainTLSEntry.governing("a.example.com", in: entries)?.settings == tls)
        #expect(DomainTLSEntry.governing("a.b.example.com", in: entries)?.settings == strict)
        #expect(DomainTLSEntry.governing("b.example.com", in: entries)?.settings == tls, "a dot entry skips its own domain")
        #expect(DomainTLSEntry.governing("example.org", in: entries) == nil)
        #expect(DomainTLSEntry.governing("notexample.com", in: entries) == nil)
    }

    @Test func jsonHasTheAccountObjectsShapeWithTheDomainFirst() {
        let e = DomainTLSEntry(
            domain: ".example.com", settings: EnforcedTLSSettings(requireTLS: true, requireValidCert: false, version: .v1_2))
        #expect(e.json == #"{"domain":".example.com","require_tls":true,"require_valid_cert":false,"version":1.2}"#)
    }
}
