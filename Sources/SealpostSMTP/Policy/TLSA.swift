import Crypto
import Foundation
import SwiftASN1
import X509

/// One TLSA record (RFC 6698 §2.1) as published at `_<port>._tcp.<MX host>`.
public struct TLSARecord: Sendable, Hashable, CustomStringConvertible {
    public var usage: UInt8
    public var selector: UInt8
    public var matchingType: UInt8
    public var data: [UInt8]

    public init(usage: UInt8, selector: UInt8, matchingType: UInt8, data: [UInt8]) {
        self.usage = usage
        self.selector = selector
        self.matchingType = matchingType
        self.data = data
    }

    /// The RDATA of a TLSA RR: three octets, then the association data.
    public init?(rdata: [UInt8]) {
        guard rdata.count >= 3 else { return nil }
        self.init(usage: rdata[0], selector: rdata[1], matchingType: rdata[2], data: Array(rdata[3...]))
    }

    /// RFC 7672 §3.1: only DANE-TA(2) and DANE-EE(3) are usable for SMTP (PKIX-TA/-EE need
    /// the public CA system, which SMTP to MX hosts has no name for); selectors 0 and 1;
    /// matching types 0 (exact), 1 (SHA2-256) and 2 (SHA2-512), with data of the right length.
    public var isUsable: Bool {
        guard usage == 2 || usage == 3, selector <= 1 else { return false }
        switch matchingType {
        case 0: return !data.isEmpty
        case 1: return data.count == 32
        case 2: return data.count == 64
        default: return false
        }
    }

    /// Whether the certificate (DER) matches this record's selector, matching type and data.
    public func matches(certificateDER der: [UInt8]) -> Bool {
        let selected: [UInt8]
        switch selector {
        case 0: selected = der
        case 1:
            guard let spki = TLSARecord.subjectPublicKeyInfo(of: der) else { return false }
            selected = spki
        default: return false
        }
        let digest: [UInt8]
        switch matchingType {
        case 0: digest = selected
        case 1: digest = Array(SHA256.hash(data: selected))
        case 2: digest = Array(SHA512.hash(data: selected))
        default: return false
        }
        return digest.count == data.count && zip(digest, data).allSatisfy { $0 == $1 }
    }

    /// The full SubjectPublicKeyInfo DER (AlgorithmIdentifier and BIT STRING), sliced out of
    /// the certificate as it was sent: re-encoding could change bytes, and swift-certificates'
    /// `subjectPublicKeyInfoBytes` is only the key's BIT STRING contents, which never matches.
    public static func subjectPublicKeyInfo(of der: [UInt8]) -> [UInt8]? {
        guard let certificate = try? DER.parse(der), let tbs = certificate.children.first else { return nil }
        var fields = Array(tbs.children)
        // tbsCertificate: [0] version (optional), serial, signature, issuer, validity, subject, SPKI, …
        if let first = fields.first, first.identifier == ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific) {
            fields.removeFirst()
        }
        guard fields.count > 5 else { return nil }
        return Array(fields[5].encodedBytes)
    }

    public var description: String {
        "\(usage) \(selector) \(matchingType) \(data.map { String(format: "%02x", $0) }.joined())"
    }
}

extension ASN1Node.Content {
    fileprivate var nodes: [ASN1Node] {
        if case .constructed(let children) = self { return Array(children) }
        return []
    }
}

extension ASN1Node {
    fileprivate var children: [ASN1Node] { content.nodes }
}

/// What a host's TLSA records ask of its connections, as DANE prepared them.
public struct DANEExpectation: Sendable, Hashable {
    /// The usable records (never empty).
    public var records: [TLSARecord]
    /// Names a DANE-TA chain's leaf must carry: the MX host name, and the name its secure
    /// CNAME expands to (RFC 7672 §3.2.2).
    public var names: [String]

    public init(records: [TLSARecord], names: [String]) {
        self.records = records
        self.names = names
    }
}

/// The outcome of matching a presented chain against a host's usable TLSA records.
public enum DANEMatch: Sendable, Equatable {
    /// A DANE-EE record matched the leaf (no name or date check, RFC 7672 §3.1.1).
    case endEntity
    /// A DANE-TA record matched a certificate in the chain, the chain verifies up to it and
    /// the leaf carries one of the expected names (RFC 7672 §3.1.2).
    case trustAnchor
    /// No record authenticated the chain.
    case noMatch
}

/// Matches a presented chain (leaf first, DER) against TLSA records.
public enum DANEMatcher {
    public static func match(chain: [[UInt8]], expectation: DANEExpectation, now: Date = Date()) async -> DANEMatch {
        guard let leaf = chain.first else { return .noMatch }
        let usable = expectation.records.filter(\.isUsable)
        if usable.contains(where: { $0.usage == 3 && $0.matches(certificateDER: leaf) }) { return .endEntity }
        let anchors = usable.filter { $0.usage == 2 }
        guard !anchors.isEmpty, let leafCertificate = try? Certificate(derEncoded: leaf) else { return .noMatch }
        // The trust anchor must be among the certificates the server sent (RFC 7671 §5.2.2:
        // servers publishing DANE-TA(2) include the TA in their chain).
        for (index, der) in chain.enumerated() where index > 0 {
            guard anchors.contains(where: { $0.matches(certificateDER: der) }), let anchor = try? Certificate(derEncoded: der) else {
                continue
            }
            let intermediates = CertificateStore(chain[1..<index].compactMap { try? Certificate(derEncoded: $0) })
            for name in expectation.names {
                var verifier = Verifier(rootCertificates: CertificateStore([anchor])) {
                    RFC5280Policy(validationTime: now)
                    ServerAuthUsagePolicy()
                    ServerIdentityPolicy(serverHostname: name, serverIP: nil)
                }
                if case .validCertificate = await verifier.validate(leaf: leafCertificate, intermediates: intermediates) {
                    return .trustAnchor
                }
            }
        }
        return .noMatch
    }
}
