import Crypto
import Foundation
import Testing

@testable import SealpostCore

/// DKIM's relaxed canonicalization against RFC 6376's own example (§3.4.5), the field
/// selection (bottom-up, From over-signed), the choice of signing domain, and the check of a
/// published record. Whether receivers accept the signatures is dkimpy's verdict, in the
/// end-to-end test.
@Suite struct DKIMTests {
    @Test func relaxedCanonicalizationMatchesRFC6376Example() {
        #expect(DKIMSigner.relaxedField(ArraySlice(Array("A: X\r\n".utf8))) == Array("a:X\r\n".utf8))
        #expect(DKIMSigner.relaxedField(ArraySlice(Array("B : Y\t\r\n\tZ  \r\n".utf8))) == Array("b:Y Z\r\n".utf8))
        // The body as it follows the header block (the separating empty line first).
        #expect(DKIMSigner.relaxedBody(ArraySlice(Array("\r\n C \r\nD \t E\r\n\r\n\r\n".utf8))) == Array(" C\r\nD E\r\n".utf8))
        #expect(DKIMSigner.relaxedBody(ArraySlice(Array("\r\n".utf8))) == [])
        #expect(DKIMSigner.relaxedBody(ArraySlice(Array("\r\nlast line without break".utf8))) == Array("last line without break\r\n".utf8))
    }

    @Test func signatureFieldNamesWhatItCovers() throws {
        let key = try DKIMSigner.newKey()
        let message = Array(
            "From: a@example.com\r\nTo: b@x.test\r\nSubject: hi\r\nX-Other: no\r\nTo: c@x.test\r\nMIME-Version: 1.0\r\n\r\nbody\r\n".utf8)
        let signed = try DKIMSigner.sign(message, domain: "example.com", selector: "s1", privateKey: key.privateKey, time: 1_800_000_000)
        let text = String(decoding: signed, as: UTF8.self)
        #expect(text.hasSuffix(String(decoding: message, as: UTF8.self)), "the message itself is unchanged")
        let field = String(text.prefix { $0 != "\u{0}" }.components(separatedBy: "\r\nFrom:")[0])
        let unfolded = field.replacingOccurrences(of: "\r\n\t ", with: "").replacingOccurrences(of: "\r\n\t", with: " ")
        #expect(unfolded.hasPrefix("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.com; s=s1; t=1800000000; "))
        #expect(unfolded.contains("h=from:from:to:to:subject:mime-version;"))
        // bh: SHA-256 of the canonical body "body\r\n".
        #expect(unfolded.contains("bh=\(Data(SHA256Digest.of("body\r\n")).base64EncodedString());"))
        let b = try #require(unfolded.components(separatedBy: "b=").last)
        #expect(Data(base64Encoded: b)?.count == 256, "an RSA-2048 signature")
    }

    @Test func theClosestValidatedDomainSigns() {
        func d(_ name: String, valid: Bool = true) -> AuthenticatedDomain {
            AuthenticatedDomain(
                ownerID: 1, domain: name, subdomain: "", selector: "s1", privateKey: [], publicKey: "", isDefault: false, valid: valid)
        }
        let domains = [d("example.com"), d("news.example.com"), d("other.test", valid: false)]
        #expect(AuthenticatedDomain.signer(for: "example.com", among: domains)?.domain == "example.com")
        #expect(AuthenticatedDomain.signer(for: "a.news.EXAMPLE.com", among: domains)?.domain == "news.example.com")
        #expect(AuthenticatedDomain.signer(for: "badexample.com", among: domains) == nil)
        #expect(AuthenticatedDomain.signer(for: "other.test", among: domains) == nil, "not validated")
    }

    @Test func aRecordPublishesTheKeyOnlyWithItsKey() {
        let d = AuthenticatedDomain(
            ownerID: 1, domain: "example.com", subdomain: "", selector: "s1", privateKey: [], publicKey: "MIIBIjAN+abc/9=",
            isDefault: false,
            valid: false)
        #expect(d.isPublished(in: "v=DKIM1; k=rsa; p=MIIBIjAN+abc/9="))
        #expect(d.isPublished(in: "p=MIIBIjAN +abc/9= ; v=DKIM1"))
        #expect(!d.isPublished(in: "v=DKIM1; k=rsa; p=MIIBIjAN+abc/8="))
        #expect(!d.isPublished(in: "v=DKIM1; k=ed25519; p=MIIBIjAN+abc/9="))
        #expect(!d.isPublished(in: "v=spf1 -all"))
        #expect(!"\(d)".contains("privateKey"), "the description leaves the key out")
    }
}

extension SHA256Digest {
    static func of(_ text: String) -> SHA256Digest { SHA256.hash(data: Data(text.utf8)) }
}
