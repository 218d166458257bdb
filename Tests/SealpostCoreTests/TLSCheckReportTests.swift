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
