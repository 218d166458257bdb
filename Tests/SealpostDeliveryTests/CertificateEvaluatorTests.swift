import Crypto
import Foundation
import SwiftASN1
import Testing
import X509

@testable import SealpostCore
@testable import SealpostDelivery
@testable import SealpostSMTP

/// The verdicts on chains made here with swift-certificates (a test CA and leaves for
/// `mx.test`), above all the extended key usage rule of RFC 5280 §4.2.1.12: present, critical
/// or not, it must allow `serverAuth`.
@Suite struct CertificateEvaluatorTests {
    static let caKey = Certificate.PrivateKey(P256.Signing.PrivateKey())
    static let caName = try! DistinguishedName { CommonName("Sealpost Test CA") }
    static let now = Date()
    static let ca = try! Certificate(
        version: .v3, serialNumber: .init(), publicKey: caKey.publicKey,
        notValidBefore: now - 3600, notValidAfter: now + 86400, issuer: caName, subject: caName,
        signatureAlgorithm: .ecdsaWithSHA256,
        extensions: try! Certificate.Extensions {
            Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
            Critical(KeyUsage(keyCertSign: true))
        },
        issuerPrivateKey: caKey)

    enum Usage { case none, serverAuth(critical: Bool), clientAuthOnly(critical: Bool), any }

    static func leaf(_ usage: Usage, name: String = "mx.test") throws -> [UInt8] {
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        var all = try Certificate.Extensions {
            Critical(KeyUsage(digitalSignature: true))
            SubjectAlternativeNames([.dnsName(name)])
        }
        switch usage {
        case .none: break
        case .serverAuth(let critical):
            try all.append(Certificate.Extension(ExtendedKeyUsage([.serverAuth]), critical: critical))
        case .clientAuthOnly(let critical):
            try all.append(Certificate.Extension(ExtendedKeyUsage([.clientAuth]), critical: critical))
        case .any:
            try all.append(Certificate.Extension(ExtendedKeyUsage([.any]), critical: true))
        }
        let cert = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: key.publicKey,
            notValidBefore: now - 3600, notValidAfter: now + 86400, issuer: caName,
            subject: try DistinguishedName { CommonName(name) }, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: all, issuerPrivateKey: caKey)
        var serializer = DER.Serializer()
        try serializer.serialize(cert)
        return serializer.serializedBytes
    }

    static let evaluator = CertificateEvaluator(roots: CertificateStore([ca]))

    @Test(arguments: [
        ("no EKU", Usage.none, CertificateVerdict.valid),
        ("serverAuth, not critical", .serverAuth(critical: false), .valid),
        ("serverAuth, critical", .serverAuth(critical: true), .valid),
        ("anyExtendedKeyUsage, critical", .any, .valid),
        ("clientAuth only, critical", .clientAuthOnly(critical: true), .untrusted),
        ("clientAuth only, not critical", .clientAuthOnly(critical: false), .untrusted),
    ])
    func extendedKeyUsage(_ name: String, _ usage: Usage, _ expected: CertificateVerdict) async throws {
        let verdict = await Self.evaluator.verdict(chain: [try Self.leaf(usage)], hostname: "mx.test", now: Self.now)
        #expect(verdict == expected, "\(name)")
    }

    @Test func criticalServerAuthStillChecksTheName() async throws {
        let verdict = await Self.evaluator.verdict(
            chain: [try Self.leaf(.serverAuth(critical: true))], hostname: "other.test", now: Self.now)
        #expect(verdict == .hostMismatch)
    }
}
