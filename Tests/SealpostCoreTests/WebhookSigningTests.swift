import Crypto
import Foundation
import Testing

@testable import SealpostCore

@Suite struct WebhookSigningTests {
    /// The signature covers the timestamp followed by the body, byte for byte: it verifies with
    /// the published public key, and not once either part changes.
    @Test func signatureCoversTimestampThenBody() throws {
        let key = WebhookSigning.newPrivateKey()
        #expect(key.count == 32)
        let publicBase64 = try #require(WebhookSigning.publicKey(of: key))
        let publicDER = try #require(Data(base64Encoded: publicBase64))
        let publicKey = try P256.Signing.PublicKey(derRepresentation: publicDER)
        let body = Array(#"[{"event":"delivered","email":"a@x.test"}]"#.utf8)
        let signature = try WebhookSigning.signature(timestamp: "1800000000", body: body, privateKey: key)
        let signatureDER = try #require(Data(base64Encoded: signature))
        let der = try P256.Signing.ECDSASignature(derRepresentation: signatureDER)
        #expect(publicKey.isValidSignature(der, for: Data("1800000000".utf8) + body))
        #expect(!publicKey.isValidSignature(der, for: Data("1800000001".utf8) + body))
        #expect(!publicKey.isValidSignature(der, for: Data(body)))
        #expect(!publicKey.isValidSignature(der, for: Data("1800000000".utf8) + body.dropLast()))
    }

    @Test func aKeyThatIsNotP256IsRefused() {
        #expect(WebhookSigning.publicKey(of: [1, 2, 3]) == nil)
        #expect(throws: (any Error).self) { try WebhookSigning.signature(timestamp: "1", body: [UInt8](), privateKey: [1, 2, 3]) }
    }
}
