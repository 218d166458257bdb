import Crypto
import CryptoExtras
import Foundation

/// DKIM signing (RFC 6376): `rsa-sha256`, `c=relaxed/relaxed`, applied at intake so the bytes
/// stored are the bytes signed and sent. The signature covers the fields receivers and DMARC
/// care about; `From` is over-signed (named once more than it occurs) so that a second `From`
/// added on the way breaks the signature instead of riding on it.
public enum DKIMSigner {
    /// The fields signed when present, in this order (`from` always, and once more); TLS
    /// reports' own fields too (RFC 8460 §5.3 asks for them in `h=`).
    public static let signedFields = [
        "from", "to", "cc", "subject", "date", "message-id", "reply-to", "mime-version", "content-type", "list-unsubscribe",
        "list-unsubscribe-post", "tls-report-domain", "tls-report-submitter",
    ]

    /// A new RSA-2048 key: the private key as PKCS#1 DER (what the store keeps) and the public
    /// key as base64 DER SubjectPublicKeyInfo (the `p=` of the DNS record).
    public static func newKey() throws -> (privateKey: [UInt8], publicKey: String) {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        return (Array(key.derRepresentation), key.publicKey.derRepresentation.base64EncodedString())
    }

    /// The TXT record to publish at `<selector>._domainkey.<domain>`.
    public static func dnsRecord(publicKey: String) -> String { "v=DKIM1; k=rsa; p=\(publicKey)" }

    /// `message` with a `DKIM-Signature` field prepended.
    public static func sign(
        _ message: [UInt8], domain: String, selector: String, privateKey: [UInt8], time: Int
    ) throws -> [UInt8] {
        let key = try _RSA.Signing.PrivateKey(derRepresentation: privateKey)
        let headerEnd = SubmittedMessage.headerBlockEnd(message)
        let fields = SubmittedMessage.headerFields(message[..<headerEnd])
        let bodyHash = Data(SHA256.hash(data: relaxedBody(message[headerEnd...]))).base64EncodedString()

        // h=: every listed field present, bottom-up per name (RFC 6376 §5.4.2), `from` once more.
        var names: [String] = []
        var input: [UInt8] = []
        var used: [String: Int] = [:]
        for name in signedFields {
            let instances = fields.filter { $0.name.lowercased() == name }
            let count = instances.count + (name == "from" ? 1 : 0)
            for _ in 0..<count {
                names.append(name)
                let taken = used[name, default: 0]
                used[name] = taken + 1
                // The last unused instance; beyond them the name stands for an absent field.
                guard taken < instances.count else { continue }
                input += relaxedField(instances[instances.count - 1 - taken].raw)
            }
        }
        let value =
            "v=1; a=rsa-sha256; c=relaxed/relaxed; d=\(domain); s=\(selector);\r\n\tt=\(time); h=\(names.joined(separator: ":"));\r\n\tbh=\(bodyHash);\r\n\tb="
        input += relaxedField(ArraySlice(Array("DKIM-Signature: \(value)".utf8)), lineBreak: false)
        let signature = try key.signature(for: input, padding: .insecurePKCS1v1_5).rawRepresentation.base64EncodedString()
        // b= folded every 72 characters: verifiers drop the value with its white space.
        var folded = ""
        var rest = Substring(signature)
        while !rest.isEmpty {
            if !folded.isEmpty { folded += "\r\n\t " }
            folded += rest.prefix(72)
            rest = rest.dropFirst(72)
        }
        return Array("DKIM-Signature: \(value)\(folded)\r\n".utf8) + message
    }

    /// Relaxed body canonicalization (§3.4.4): white-space runs become one space, trailing
    /// white space and trailing empty lines go, every line ends in CRLF. `body` starts at the
    /// empty line that ends the header block (its line break is not part of the body).
    static func relaxedBody(_ body: ArraySlice<UInt8>) -> [UInt8] {
        var lines: [[UInt8]] = []
        var current: [UInt8] = []
        var space = false
        var start = body.startIndex
        // Skip the separator line.
        if let lf = body.firstIndex(of: 0x0A) { start = body.index(after: lf) } else { return [] }
        for byte in body[start...] {
            switch byte {
            case 0x0A:
                lines.append(current)
                current = []
                space = false
            case 0x0D:
                continue
            case 0x20, 0x09:
                space = true
            default:
                if space { current.append(0x20) }  // a run inside or leading the line: one space
                space = false
                current.append(byte)
            }
        }
        if !current.isEmpty { lines.append(current) }
        while let last = lines.last, last.isEmpty { lines.removeLast() }
        var out: [UInt8] = []
        for line in lines { out += line + [0x0D, 0x0A] }
        return out
    }

    /// Relaxed header canonicalization (§3.4.2): lower-case name, unfolded, white-space runs as
    /// one space, none around the colon or at the end.
    static func relaxedField(_ raw: ArraySlice<UInt8>, lineBreak: Bool = true) -> [UInt8] {
        guard let colon = raw.firstIndex(of: UInt8(ascii: ":")) else { return [] }
        let name = String(decoding: raw[..<colon], as: UTF8.self).trimmingCharacters(in: .whitespaces).lowercased()
        var value: [UInt8] = []
        var space = false
        for byte in raw[raw.index(after: colon)...] {
            switch byte {
            case 0x0D, 0x0A: continue
            case 0x20, 0x09: space = true
            default:
                if space && !value.isEmpty { value.append(0x20) }
                space = false
                value.append(byte)
            }
        }
        return Array(name.utf8) + [UInt8(ascii: ":")] + value + (lineBreak ? [0x0D, 0x0A] : [])
    }
}
