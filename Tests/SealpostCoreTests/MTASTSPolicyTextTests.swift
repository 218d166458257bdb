import Testing

@testable import SealpostCore

/// RFC 8461 §3.1 (the TXT record), §3.2 (the policy body) and §4.1 (MX patterns).
@Suite struct MTASTSPolicyTextTests {
    @Test func policiesParse() {
        let p = MTASTSPolicyText.parse(
            "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 604800\r\n")
        #expect(p == MTASTSPolicyText(mode: .enforce, mx: ["mail.example.com", "*.example.net"], maxAge: 604_800))
        // LF line ends, unknown keys ignored, max_age capped at a year
        #expect(
            MTASTSPolicyText.parse("version: STSv1\nmode: testing\nfuture: x\nmx: MX.Example.COM\nmax_age: 99999999999\n")
                == MTASTSPolicyText(mode: .testing, mx: ["mx.example.com"], maxAge: 31_557_600))
        #expect(MTASTSPolicyText.parse("version: STSv1\nmode: none\nmax_age: 86400\n")?.mode == MTASTSPolicyText.Mode.none)
    }

    @Test(arguments: [
        "",
        "mode: enforce\nmx: a.test\nmax_age: 1\n",  // no version
        "version: STSv2\nmode: enforce\nmx: a.test\nmax_age: 1\n",
        "version: STSv1\nmode: enforcing\nmx: a.test\nmax_age: 1\n",
        "version: STSv1\nmode: enforce\nmax_age: 1\n",  // no mx
        "version: STSv1\nmode: enforce\nmx: a.test\n",  // no max_age
        "version: STSv1\nmode: enforce\nmx: a.test\nmax_age: -5\n",
        "version: STSv1\nmode: enforce\nmx: a.test\nmax_age: 1e3\n",
        "<html>not a policy</html>",
    ])
    func invalidPoliciesAreRefused(text: String) {
        #expect(MTASTSPolicyText.parse(text) == nil)
    }

    @Test func mxPatterns() {
        let p = MTASTSPolicyText(mode: .enforce, mx: ["mail.example.com", "*.example.net"], maxAge: 1)
        #expect(p.matches(mxHost: "mail.example.com") && p.matches(mxHost: "MAIL.example.com."))
        #expect(p.matches(mxHost: "mx1.example.net"))
        #expect(!p.matches(mxHost: "a.b.example.net"))  // one label only
        #expect(!p.matches(mxHost: "example.net"))
        #expect(!p.matches(mxHost: "mail.example.com.evil.test"))
        #expect(!p.matches(mxHost: "xmail.example.com"))
    }

    @Test func txtRecords() {
        #expect(MTASTSPolicyText.txtID("v=STSv1; id=20160831085700Z;") == "20160831085700Z")
        #expect(MTASTSPolicyText.txtID("v=STSv1;id=abc") == "abc")
        #expect(MTASTSPolicyText.txtID("id=abc; v=STSv1;") == nil)
        #expect(MTASTSPolicyText.txtID("v=STSv1; id=a-b;") == nil)
        #expect(MTASTSPolicyText.txtID("v=STSv1; id=\(String(repeating: "a", count: 33));") == nil)
        #expect(MTASTSPolicyText.txtID("v=STSv1;") == nil)
    }
}
