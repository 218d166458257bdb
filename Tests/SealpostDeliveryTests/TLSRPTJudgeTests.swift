import Foundation
import Testing

@testable import SealpostCore
@testable import SealpostDelivery
@testable import SealpostSMTP

/// How a session is reported (RFC 8460): under which policy, with which result.
@Suite struct TLSRPTJudgeTests {
    static let record = TLSARecord(usage: 3, selector: 1, matchingType: 1, data: [0xab, 0xcd])

    @Test func thePolicyIsDANEsWhereItHasTLSAElseMTASTSElseNone() {
        let dane = PreparedDANE(hosts: [
            "mx1.a.test": .usable(DANEExpectation(records: [Self.record], names: ["mx1.a.test"])), "mx2.a.test": .notApplicable("no TLSA"),
        ])
        let sts = PreparedMTASTS(policy: MTASTSPolicyText(mode: .testing, mx: ["*.a.test"], maxAge: 86_400))
        let set = PolicySet([EnforcedTLSPolicy(settings: .default), dane, sts])
        #expect(set.reportPolicy(mxHost: "MX1.a.test.") == TLSRPTPolicy(kind: .tlsa, strings: ["3 1 1 abcd"], mxHosts: ["mx1.a.test"]))
        #expect(
            set.reportPolicy(mxHost: "mx2.a.test")
                == TLSRPTPolicy(
                    kind: .sts, strings: ["version: STSv1", "mode: testing", "mx: *.a.test", "max_age: 86400"], mxHosts: ["*.a.test"]))
        #expect(PolicySet([EnforcedTLSPolicy(settings: .default)]).reportPolicy(mxHost: "mx.b.test") == .none)
        #expect(PolicySet([PreparedMTASTS(policy: MTASTSPolicyText(mode: .none, mx: [], maxAge: 1))]).reportPolicy(mxHost: "x") == .none)
    }

    @Test func aSessionFailsOnAnyRefusalPlaintextOrWhatATestingPolicyWouldRefuse() {
        let refusal = PolicyRefusal(policy: "enforced_tls", failure: .tlsVersionTooLow, permanence: .permanent, status: "5.7.10")
        #expect(
            TLSRPTJudge.failure(refusal: refusal, starttlsOffered: true, encrypted: true, violation: nil, recorded: []) == .tlsVersionTooLow
        )
        #expect(
            TLSRPTJudge.failure(refusal: nil, starttlsOffered: false, encrypted: false, violation: nil, recorded: [])
                == .starttlsNotSupported)
        #expect(
            TLSRPTJudge.failure(refusal: nil, starttlsOffered: false, encrypted: true, violation: .certificateNotTrusted, recorded: [])
                == .certificateNotTrusted)
        #expect(
            TLSRPTJudge.failure(refusal: nil, starttlsOffered: false, encrypted: true, violation: nil, recorded: [.tlsaInvalid])
                == .tlsaInvalid)
        #expect(TLSRPTJudge.failure(refusal: nil, starttlsOffered: false, encrypted: true, violation: nil, recorded: []) == nil)
        // RFC 8460 names only its own result types; Sealpost's go in failure-reason-code.
        #expect(TLSRPTJudge.resultType(.tlsVersionTooLow) == ("validation-failure", "tls-version-too-low"))
        #expect(TLSRPTJudge.resultType(.requireTLSNotSupported) == ("validation-failure", "requiretls-not-supported"))
        #expect(TLSRPTJudge.resultType(.dnssecInvalid) == ("dnssec-invalid", nil))
    }

    @Test func theServerReportsTheLastDaysThatEndedAndADayEndsAtItsLastSecond() {
        let now = Date(timeIntervalSince1970: 100 * 86_400 + 3_600)  // 01:00 on day 100
        #expect(TLSReportService.daysToPlan(now: now) == [99, 98, 97])
        #expect(TLSReportDay.end(of: 99, now: now) == 99 * 86_400 + 86_399)
        #expect(TLSReportDay.end(of: 100, now: now) == 100 * 86_400 + 3_600, "a day not over: up to now")
    }
}
