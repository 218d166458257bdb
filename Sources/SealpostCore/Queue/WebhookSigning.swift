import Crypto
import Foundation

/// SendGrid's signed Event Webhook: an ECDSA P-256 key pair per user; every POST carries
/// `X-Twilio-Email-Event-Webhook-Signature`, the base64 DER ECDSA-SHA256 signature of the
/// timestamp followed by the exact body, and `X-Twilio-Email-Event-Webhook-Timestamp`. The
/// receiver checks it with the public key (`EventWebhook().verify_signature` in SendGrid's
/// libraries), so a forged or altered POST is told from a real one.
public enum WebhookSigning {
    public static let signatureHeader = "X-Twilio-Email-Event-Webhook-Signature"
    public static let timestampHeader = "X-Twilio-Email-Event-Webhook-Timestamp"

    /// A new private key, as its 32-byte raw scalar (what the store keeps).
    public static func newPrivateKey() -> [UInt8] {
        Array(P256.Signing.PrivateKey().rawRepresentation)
    }

    /// The public key as SendGrid shows it: base64 of the DER SubjectPublicKeyInfo (a PEM body
    /// without its armour). `nil` when the stored bytes are not a P-256 key.
    public static func publicKey(of privateKey: [UInt8]) -> String? {
        guard let key = try? P256.Signing.PrivateKey(rawRepresentation: privateKey) else { return nil }
        return key.publicKey.derRepresentation.base64EncodedString()
    }

    /// The signature header's value for one POST body sent with `timestamp`.
    public static func signature(timestamp: String, body: some Collection<UInt8>, privateKey: [UInt8]) throws -> String {
        let key = try P256.Signing.PrivateKey(rawRepresentation: privateKey)
        var signed = Data(timestamp.utf8)
        signed.append(contentsOf: body)
        return try key.signature(for: signed).derRepresentation.base64EncodedString()
    }
}
