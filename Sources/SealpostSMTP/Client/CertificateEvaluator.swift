import Foundation
import SealpostCore
import SwiftASN1
import X509

/// Judges a server's certificate chain against the trust roots, the host name and the clock,
/// naming the first problem found (RFC 8460 result types map onto the verdicts).
///
/// The TLS handshake itself accepts any certificate: opportunistic delivery must work with
/// self-signed servers, and a handshake that fails on verification cannot say *why*.
public struct CertificateEvaluator: Sendable {
    let roots: CertificateStore

    /// The system's trust roots.
    public static let system = CertificateEvaluator(roots: CertificateStore.systemTrustRoots)

    public init(roots: CertificateStore) { self.roots = roots }

    /// Trust roots from a PEM file (one or more certificates).
    public init(pemFile path: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let blocks = text.components(separatedBy: "-----END CERTIFICATE-----").compactMap { chunk -> String? in
            guard let start = chunk.range(of: "-----BEGIN CERTIFICATE-----") else { return nil }
            return String(chunk[start.lowerBound...]) + "-----END CERTIFICATE-----\n"
        }
        let certificates = try blocks.map { try Certificate(pemEncoded: $0) }
        guard !certificates.isEmpty else { throw CertificateEvaluatorError.noCertificates(path) }
        self.roots = CertificateStore(certificates)
    }

    /// `chain` is what the server presented, leaf first, DER-encoded.
    public func verdict(chain: [[UInt8]], hostname: String, now: Date = Date()) async -> CertificateVerdict {
        guard let leafDER = chain.first, let leaf = try? Certificate(derEncoded: leafDER) else { return .invalid }
        let intermediates = CertificateStore(chain.dropFirst().compactMap { try? Certificate(derEncoded: $0) })
        var full = Verifier(rootCertificates: roots) {
            RFC5280Policy(validationTime: now)
            ServerAuthUsagePolicy()
            ServerIdentityPolicy(serverHostname: hostname, serverIP: nil)
        }
        if case .validCertificate = await full.validate(leaf: leaf, intermediates: intermediates) { return .valid }
        if now < leaf.notValidBefore || now > leaf.notValidAfter { return .expired }
        var chainOnly = Verifier(rootCertificates: roots) {
            RFC5280Policy(validationTime: now)
            ServerAuthUsagePolicy()
        }
        if case .validCertificate = await chainOnly.validate(leaf: leaf, intermediates: intermediates) { return .hostMismatch }
        return .untrusted
    }
}

extension CertificateEvaluator {
    /// The leaf's subject, issuer, expiry and DNS names; `nil` when it does not parse.
    public static func summary(chain: [[UInt8]]) -> CertificateSummary? {
        guard let der = chain.first, let leaf = try? Certificate(derEncoded: der) else { return nil }
        let names = (try? leaf.extensions.subjectAlternativeNames)??.compactMap { name -> String? in
            if case .dnsName(let n) = name { return n }
            return nil
        }
        return CertificateSummary(
            subject: leaf.subject.description, issuer: leaf.issuer.description,
            notAfter: Int(leaf.notValidAfter.timeIntervalSince1970), dnsNames: names ?? [])
    }
}

/// RFC 5280 §4.2.1.12 for a TLS server: where a certificate below the trust anchor carries
/// the extended key usage extension, critical or not, it must allow `serverAuth` (or
/// `anyExtendedKeyUsage`). Without this policy the verifier does not understand the extension,
/// so it rejects every chain where it is marked critical, as the `trustme` test CA and some
/// enterprise CAs issue it: a `require_valid_cert` sender would lose mail to valid servers.
/// An EKU in an intermediate constrains the leaf (as browsers and Go treat it); the trust
/// anchor's own extensions are not judged.
struct ServerAuthUsagePolicy: VerifierPolicy {
    let verifyingCriticalExtensions: [ASN1ObjectIdentifier] = [ASN1ObjectIdentifier.X509ExtensionID.extendedKeyUsage]

    func chainMeetsPolicyRequirements(chain: UnverifiedCertificateChain) async -> PolicyEvaluationResult {
        for index in chain.indices.dropLast() {
            let usages: ExtendedKeyUsage?
            do {
                usages = try chain[index].extensions.extendedKeyUsage
            } catch {
                return .failsToMeetPolicy(reason: "unparseable extended key usage in certificate \(index)")
            }
            guard let usages else { continue }
            if !usages.contains(.serverAuth) && !usages.contains(.any) {
                return .failsToMeetPolicy(reason: "extended key usage of certificate \(index) does not allow TLS server authentication")
            }
        }
        return .meetsPolicy
    }
}

public enum CertificateEvaluatorError: Error, CustomStringConvertible {
    case noCertificates(String)
    public var description: String {
        switch self {
        case .noCertificates(let path): "no certificate found in \(path)"
        }
    }
}
