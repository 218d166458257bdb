import Crypto
import Foundation
import SwiftASN1
import Testing
import X509

@testable import SealpostCore
@testable import SealpostDelivery
@testable import SealpostSMTP

/// DANE (RFC 7672) without a network: TLSA matching on chains made here, and the decision
/// table of `PreparedDANE` with the account's setting, through the client's state machine.
@Suite struct DANETests {
    static let now = Date()
    // The test CA of the certificate evaluator's tests.
    static let caKey = CertificateEvaluatorTests.caKey
    static let caName = CertificateEvaluatorTests.caName
    static let ca = CertificateEvaluatorTests.ca

    static func der(_ c: Certificate) -> [UInt8] {
        var s = DER.Serializer()
        try! s.serialize(c)
        return s.serializedBytes
    }

    /// A leaf for `name` issued by the test CA, or self-signed (with its own key) when `selfSigned`.
    static func leaf(_ name: String, selfSigned: Bool = false, expired: Bool = false) -> Certificate {
        let key = Certificate.PrivateKey(P256.Signing.PrivateKey())
        let subject = try! DistinguishedName { CommonName(name) }
        let notAfter = expired ? now - 60 : now + 86400
        return try! Certificate(
            version: .v3, serialNumber: .init(), publicKey: key.publicKey, notValidBefore: now - 7200, notValidAfter: notAfter,
            issuer: selfSigned ? subject : caName, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try! Certificate.Extensions { SubjectAlternativeNames([.dnsName(name)]) },
            issuerPrivateKey: selfSigned ? key : caKey)
    }

    /// The SPKI as swift-certificates serialises the public key: another road to the same
    /// bytes than the slice `TLSARecord` takes out of the certificate.
    static func spki(_ c: Certificate) -> [UInt8] {
        var s = DER.Serializer()
        try! s.serialize(c.publicKey)
        return s.serializedBytes
    }

    static func record(_ usage: UInt8, _ selector: UInt8, _ type: UInt8, _ blob: [UInt8]) -> TLSARecord {
        let data: [UInt8] =
            switch type {
            case 1: Array(SHA256.hash(data: blob))
            case 2: Array(SHA512.hash(data: blob))
            default: blob
            }
        return TLSARecord(usage: usage, selector: selector, matchingType: type, data: data)
    }

    @Test func spkiIsTheWholeSubjectPublicKeyInfo() {
        let c = Self.leaf("mx.dane.test", selfSigned: true)
        let sliced = TLSARecord.subjectPublicKeyInfo(of: Self.der(c))
        #expect(sliced == Self.spki(c))
        #expect(sliced?.count == 91)  // P-256: AlgorithmIdentifier + 65-byte point in a BIT STRING
    }

    @Test func endEntityRecordsMatchTheLeafOnlyWithNoNameOrDateCheck() async {
        let leaf = Self.leaf("some-other-name.test", selfSigned: true, expired: true)
        let chain = [Self.der(leaf)]
        for (selector, blob) in [(UInt8(0), Self.der(leaf)), (1, Self.spki(leaf))] {
            for type in [UInt8(0), 1, 2] {
                let e = DANEExpectation(records: [Self.record(3, selector, type, blob)], names: ["mx.dane.test"])
                #expect(await DANEMatcher.match(chain: chain, expectation: e) == .endEntity, "3 \(selector) \(type)")
            }
        }
        let other = Self.leaf("x.test", selfSigned: true)
        let wrong = DANEExpectation(records: [Self.record(3, 1, 1, Self.spki(other))], names: ["mx.dane.test"])
        #expect(await DANEMatcher.match(chain: chain, expectation: wrong) == .noMatch)
        // A DANE-EE record never matches an issuer in the chain.
        let issuerOnly = DANEExpectation(records: [Self.record(3, 0, 1, Self.der(Self.ca))], names: ["mx.dane.test"])
        #expect(
            await DANEMatcher.match(chain: [Self.der(Self.leaf("mx.dane.test")), Self.der(Self.ca)], expectation: issuerOnly) == .noMatch)
    }

    @Test func trustAnchorRecordsNeedTheChainAndTheName() async {
        let leaf = Self.leaf("mx.dane.test")
        let chain = [Self.der(leaf), Self.der(Self.ca)]
        let ta = Self.record(2, 0, 1, Self.der(Self.ca))
        #expect(await DANEMatcher.match(chain: chain, expectation: DANEExpectation(records: [ta], names: ["mx.dane.test"])) == .trustAnchor)
        let taSPKI = Self.record(2, 1, 2, Self.spki(Self.ca))
        #expect(
            await DANEMatcher.match(chain: chain, expectation: DANEExpectation(records: [taSPKI], names: ["mx.dane.test"])) == .trustAnchor)
        // the right anchor, the wrong MX name
        #expect(await DANEMatcher.match(chain: chain, expectation: DANEExpectation(records: [ta], names: ["other.dane.test"])) == .noMatch)
        // a secure CNAME's expanded name is accepted too
        #expect(
            await DANEMatcher.match(chain: chain, expectation: DANEExpectation(records: [ta], names: ["alias.test", "mx.dane.test"]))
                == .trustAnchor)
        // the anchor not sent by the server
        #expect(
            await DANEMatcher.match(chain: [Self.der(leaf)], expectation: DANEExpectation(records: [ta], names: ["mx.dane.test"]))
                == .noMatch)
        // a leaf not issued by the matched anchor, sent beside it
        let stranger = Self.leaf("mx.dane.test", selfSigned: true)
        #expect(
            await DANEMatcher.match(
                chain: [Self.der(stranger), Self.der(Self.ca)], expectation: DANEExpectation(records: [ta], names: ["mx.dane.test"]))
                == .noMatch)
        // expired leaf under DANE-TA: the chain check includes dates
        let expired = Self.leaf("mx.dane.test", expired: true)
        #expect(
            await DANEMatcher.match(
                chain: [Self.der(expired), Self.der(Self.ca)], expectation: DANEExpectation(records: [ta], names: ["mx.dane.test"]))
                == .noMatch)
    }

    @Test func usableRecords() {
        #expect(TLSARecord(usage: 3, selector: 1, matchingType: 1, data: Array(repeating: 1, count: 32)).isUsable)
        #expect(TLSARecord(usage: 2, selector: 0, matchingType: 2, data: Array(repeating: 1, count: 64)).isUsable)
        #expect(TLSARecord(usage: 3, selector: 0, matchingType: 0, data: [0x30]).isUsable)
        #expect(!TLSARecord(usage: 1, selector: 1, matchingType: 1, data: Array(repeating: 1, count: 32)).isUsable)  // PKIX-EE
        #expect(!TLSARecord(usage: 0, selector: 0, matchingType: 1, data: Array(repeating: 1, count: 32)).isUsable)  // PKIX-TA
        #expect(!TLSARecord(usage: 3, selector: 2, matchingType: 1, data: Array(repeating: 1, count: 32)).isUsable)
        #expect(!TLSARecord(usage: 3, selector: 1, matchingType: 3, data: Array(repeating: 1, count: 32)).isUsable)
        #expect(!TLSARecord(usage: 3, selector: 1, matchingType: 1, data: Array(repeating: 1, count: 31)).isUsable)
        #expect(
            TLSARecord(rdata: [3, 1, 1] + Array(repeating: 7, count: 32))
                == TLSARecord(usage: 3, selector: 1, matchingType: 1, data: Array(repeating: 7, count: 32)))
        #expect(TLSARecord(rdata: [3, 1]) == nil)
    }

    typealias Server = PolicyDecisionTests.Server
    static let servers: [Server] = [
        Server(name: "no STARTTLS", offersSTARTTLS: false, tls: nil),
        Server(name: "handshake fails", offersSTARTTLS: true, tls: nil),
        Server(
            name: "self-signed, no TLSA match", offersSTARTTLS: true, tls: TLSFacts(version: .v1_3, certificate: .untrusted, dane: .noMatch)
        ),
        Server(
            name: "self-signed, DANE-EE match", offersSTARTTLS: true,
            tls: TLSFacts(version: .v1_3, certificate: .untrusted, dane: .endEntity)),
        Server(
            name: "CA-signed, DANE-TA match", offersSTARTTLS: true,
            tls: TLSFacts(version: .v1_2, certificate: .untrusted, dane: .trustAnchor)),
        Server(name: "self-signed, no DANE", offersSTARTTLS: true, tls: TLSFacts(version: .v1_3, certificate: .untrusted)),
    ]

    static let usable = DANEHostState.usable(
        DANEExpectation(
            records: [TLSARecord(usage: 3, selector: 1, matchingType: 1, data: Array(repeating: 0, count: 32))], names: ["mx.test"]))

    /// host state × account setting → per server (in `servers` order).
    static let table: [(String, DANEHostState, EnforcedTLSSettings, [PolicyDecisionTests.Expect])] = [
        (
            "usable, opportunistic", usable, PolicyDecisionTests.opportunistic,
            [
                .refused(.starttlsNotSupported), .refused(.validationFailure), .refused(.validationFailure), .verified, .verified,
                .refused(.validationFailure),
            ]
        ),
        (
            // DANE-authenticated counts as verified for require_valid_cert
            "usable, require_valid_cert", usable, PolicyDecisionTests.validCert,
            [
                .refused(.starttlsNotSupported), .refused(.validationFailure), .refused(.certificateNotTrusted), .verified, .verified,
                .refused(.certificateNotTrusted),
            ]
        ),
        (
            "unusable, opportunistic", .unusable, PolicyDecisionTests.opportunistic,
            [.refused(.starttlsNotSupported), .refused(.validationFailure), .encrypted, .verified, .verified, .encrypted]
        ),
        (
            "no TLSA, opportunistic", .notApplicable("no TLSA records"), PolicyDecisionTests.opportunistic,
            [.plaintext, .retryPlaintext, .encrypted, .verified, .verified, .encrypted]
        ),
        (
            "insecure, require_tls", .notApplicable("MX host address not DNSSEC-validated"), PolicyDecisionTests.tls12,
            [.refused(.starttlsNotSupported), .refused(.validationFailure), .encrypted, .verified, .verified, .encrypted]
        ),
    ]

    @Test func decisionTable() {
        for (name, state, settings, expected) in Self.table {
            #expect(expected.count == Self.servers.count)
            let policy = PolicySet([EnforcedTLSPolicy(settings: settings), PreparedDANE(hosts: ["mx.test": state])])
            for (server, want) in zip(Self.servers, expected) {
                #expect(PolicyDecisionTests.decide(policy, server) == want, "\(name) × \(server)")
            }
        }
    }

    @Test func refusalsAreTemporaryAndNameDANE() {
        let dane = PreparedDANE(hosts: ["mx.test": Self.usable, "bad.test": .lookupFailed("TLSA lookup failed: SERVFAIL")])
        let set = PolicySet([EnforcedTLSPolicy(settings: PolicyDecisionTests.opportunistic), dane])
        guard case .refuse(let r) = set.checkMX("bad.test") else { Issue.record("a failed TLSA lookup must refuse the host"); return }
        #expect(r == PolicyRefusal(policy: "dane", failure: .dnssecInvalid, permanence: .temporary, status: "4.7.5", requiredLevel: .dane))
        #expect(set.checkMX("MX.test.") == .use(required: .dane))
        #expect(set.levelSource(mxHost: "mx.test") == "dane")
        #expect(set.expectation(mxHost: "mx.test") != nil && set.expectation(mxHost: "other.test") == nil)
        #expect(PreparedDANE(hosts: ["u.test": .unusable]).recorded(mxHost: "u.test") == [.tlsaInvalid])
        // a bogus MX RRset refuses the whole domain
        let bogus = PolicySet([PreparedDANE(hosts: [:], domainFailure: "MX lookup failed: SERVFAIL")])
        #expect(bogus.domainRefusal?.failure == .dnssecInvalid)
        #expect(bogus.domainRefusal?.permanence == .temporary)
        // a refusal on every host is a deferral with the refusal, not a block
        let fate = RecipientFate.combine([.policyFailure(r)])
        guard case .deferred(_, let refusal) = fate else { Issue.record("want deferred, got \(fate)"); return }
        #expect(refusal == r)
    }

    @Test func trustedResolversAreLoopbackOnly() {
        #expect(DNSClient.isLoopback("127.0.0.1") && DNSClient.isLoopback("127.53.0.9") && DNSClient.isLoopback("::1"))
        #expect(!DNSClient.isLoopback("10.0.0.1") && !DNSClient.isLoopback("128.0.0.1") && !DNSClient.isLoopback("resolver.test"))
        #expect(
            DNSClient.nameservers(resolvConf: "# x\nsearch a.test\nnameserver 127.0.0.53\noptions edns0 trust-ad\nnameserver\t::1\n") == [
                "127.0.0.53", "::1",
            ])
        #expect(DNSClient.txt([5] + Array("v=STS".utf8) + [4] + Array("v1; ".utf8)) == "v=STSv1; ")
    }
}

/// MTA-STS prepared: enforce, testing, and DANE governing a host with usable TLSA records.
@Suite struct MTASTSDecisionTests {
    typealias Server = PolicyDecisionTests.Server
    static let enforce = PreparedMTASTS(policy: MTASTSPolicyText(mode: .enforce, mx: ["mx.test"], maxAge: 60))
    static let servers: [Server] = [
        Server(name: "no STARTTLS", offersSTARTTLS: false, tls: nil),
        Server(name: "valid", offersSTARTTLS: true, tls: TLSFacts(version: .v1_2, certificate: .valid)),
        Server(
            name: "self-signed, DANE-EE match", offersSTARTTLS: true,
            tls: TLSFacts(version: .v1_3, certificate: .untrusted, dane: .endEntity)),
        Server(name: "wrong name", offersSTARTTLS: true, tls: TLSFacts(version: .v1_3, certificate: .hostMismatch)),
    ]

    @Test func enforceNeedsAValidCertificateUnlessDANEGoverns() {
        let alone = PolicySet([EnforcedTLSPolicy(settings: PolicyDecisionTests.opportunistic), Self.enforce])
        let withDANE = PolicySet([
            EnforcedTLSPolicy(settings: PolicyDecisionTests.opportunistic), PreparedDANE(hosts: ["mx.test": DANETests.usable]),
            Self.enforce,
        ])
        let expected: [(PolicySet, [PolicyDecisionTests.Expect])] = [
            (alone, [.refused(.starttlsNotSupported), .verified, .refused(.certificateNotTrusted), .refused(.certificateHostMismatch)]),
            // DANE governs: a PKIX-valid certificate matching no TLSA record is refused, a DANE match passes
            (withDANE, [.refused(.starttlsNotSupported), .refused(.validationFailure), .verified, .refused(.validationFailure)]),
        ]
        for (set, want) in expected {
            for (server, w) in zip(Self.servers, want) { #expect(PolicyDecisionTests.decide(set, server) == w, "\(server)") }
        }
        #expect(alone.levelSource(mxHost: "mx.test") == "mta-sts")
        #expect(withDANE.levelSource(mxHost: "mx.test") == "dane")
        guard case .refuse(let r) = alone.checkMX("other.test") else { Issue.record("an MX outside the policy must be refused"); return }
        #expect((r.policy, r.failure, r.permanence) == ("mta-sts", .validationFailure, .temporary))
    }

    @Test func testingRecordsWhatWouldHaveFailed() {
        let testing = PreparedMTASTS(policy: MTASTSPolicyText(mode: .testing, mx: ["*.test"], maxAge: 60))
        let set = PolicySet([EnforcedTLSPolicy(settings: PolicyDecisionTests.opportunistic), testing])
        #expect(set.checkMX("other.example") == .use(required: .may))
        #expect(PolicyDecisionTests.decide(set, Self.servers[3]) == .encrypted)
        let mismatch = SessionTLS(reached: .encrypted, version: .v1_3, cipher: nil, certificate: .hostMismatch)
        #expect(set.violation(mxHost: "mx.test", tls: mismatch) == .certificateHostMismatch)
        #expect(set.violation(mxHost: "mx.test", tls: .plaintext) == .starttlsNotSupported)
        #expect(set.violation(mxHost: "mx.other", tls: mismatch) == .validationFailure)
        let valid = SessionTLS(reached: .verified, version: .v1_3, cipher: nil, certificate: .valid)
        #expect(set.violation(mxHost: "mx.test", tls: valid) == nil)
        #expect(PreparedMTASTS(policy: nil, fetchFailure: .stsPolicyFetchError).recorded(mxHost: "mx.test") == [.stsPolicyFetchError])
    }
}
