import Foundation
import Testing

@testable import SealpostCore

/// The whole-domain verdict of a check: delivery ends on the first host that would take the
/// mail; when none would, the most preferred host's failure and reason stand for the domain.
@Suite struct TLSCheckReportTests {
    static func host(_ name: String, delivers: Bool, failure: String? = nil, reason: String? = nil) -> TLSCheckReport.Host {
        var h = TLSCheckReport.Host(host: name, preference: 10, addresses: ["127.0.0.1"])
        h.wouldDeliver = delivers
        h.tlsFailure = failure.map {
            TLSFailureDetail(resultType: $0, policy: "enforced_tls", requiredLevel: "encrypt", minimumVersion: "1.2", mxHost: name)
        }
        h.reason = reason
        return h
    }

    @Test func aLaterHostThatDeliversDecides() {
        var r = TLSCheckReport(domain: "a.test", settings: .default, policies: .init(domainEntry: nil, dane: false, mtaSTS: nil))
        r.mx = [Self.host("mx1", delivers: false, reason: "Not reached: refused"), Self.host("mx2", delivers: true)]
        r.conclude()
        #expect(r.wouldDeliver && r.tlsFailure == nil && r.reason == nil)
    }

    @Test func noHostDeliveringShowsTheMostPreferredOne() throws {
        var r = TLSCheckReport(domain: "a.test", settings: .default, policies: .init(domainEntry: nil, dane: false, mtaSTS: nil))
        r.mx = [
            Self.host("mx1", delivers: false, failure: "starttls-not-supported", reason: "first"),
            Self.host("mx2", delivers: false, reason: "second"),
        ]
        r.conclude()
        #expect(!r.wouldDeliver && r.tlsFailure?.resultType == "starttls-not-supported" && r.reason == "first")
        let json = String(decoding: try JSONEncoder().encode(r), as: UTF8.self)
        // Absent values are written as null, never left out: clients read every key.
        #expect(json.contains(#""certificate":null"#) && json.contains(#""domain_entry":null"#) && json.contains(#""mta_sts":null"#))
    }
}

/// The impact report's bookkeeping: each domain judged on its latest finding, its messages
/// summed over the period, domain entries without traffic listed.
@Suite struct TLSImpactReportTests {
    @Test func latestFindingDecidesAndCountsAddUp() {
        func o(_ domain: String, version: String?, messages: Int, last: Int) -> TLSObservation {
            TLSObservation(
                userID: 1, domain: domain, day: 1, starttls: version != nil, encrypted: version != nil, tlsVersion: version,
                certificate: nil, daneAuthenticated: false, messages: messages, lastSeen: last)
        }
        let observations = [
            o("a.test", version: nil, messages: 2, last: 10), o("a.test", version: "1.3", messages: 3, last: 20),
            o("b.test", version: "1.3", messages: 1, last: 5), o("b.test", version: nil, messages: 4, last: 30),
            o("x.sub.test", version: "1.2", messages: 1, last: 1),
        ]
        let failure = TLSFailureDetail(
            resultType: "starttls-not-supported", policy: "enforced_tls", requiredLevel: "encrypt", minimumVersion: "1.1", mxHost: nil)
        let entries = [
            DomainTLSEntry(domain: ".sub.test", settings: .default), DomainTLSEntry(domain: "quiet.test", settings: .default),
        ]
        let r = TLSImpactReport.build(
            observations: observations, settings: .default, entries: entries, period: .init(start: 0, end: 100),
            judge: { o, _, _ in o.tlsVersion == nil ? failure : nil })
        #expect(r.wouldBlock == [TLSImpactReport.Blocked(domain: "b.test", messages: 5, lastSeen: 30, tlsFailure: failure)])
        #expect(r.domainsSeen == 3 && r.messagesSeen == 11)
        #expect(r.notSeenRecently == ["quiet.test"], "the dot entry saw x.sub.test")
    }
}
