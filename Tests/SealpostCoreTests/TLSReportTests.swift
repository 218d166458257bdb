import Foundation
import Testing

@testable import SealpostCore

/// RFC 8460's report as built from stored sessions: exact JSON, the `_smtp._tls` record's rules,
/// the file name and the mail's headers.
@Suite struct TLSReportTests {
    static let tlsa = TLSRPTPolicy(kind: .tlsa, strings: ["3 1 1 abcd"], mxHosts: ["mx.a.test"])

    static func failure(_ type: String, ip: String = "192.0.2.9", code: String? = nil) -> TLSRPTSession.Failure {
        TLSRPTSession.Failure(resultType: type, sendingIP: "192.0.2.1", receivingMX: "mx.a.test", receivingIP: ip, reasonCode: code)
    }

    @Test func theJSONGroupsByPolicyAndFailure() throws {
        let day = 20_425
        let sessions = [
            TLSRPTSession(day: day, domain: "a.test", policy: Self.tlsa, failure: nil, sessions: 5),
            TLSRPTSession(day: day, domain: "a.test", policy: Self.tlsa, failure: Self.failure("validation-failure"), sessions: 2),
            TLSRPTSession(
                day: day, domain: "a.test", policy: Self.tlsa, failure: Self.failure("validation-failure", code: "tls-version-too-low"),
                sessions: 1),
            TLSRPTSession(day: day, domain: "a.test", policy: .none, failure: Self.failure("starttls-not-supported"), sessions: 3),
        ]
        let range = TLSReport.dayRange(day)
        let report = TLSReport(
            organization: "Org", contact: "c@o.test", reportID: "r-1", domain: "a.test", start: range.start, end: range.end,
            sessions: sessions)
        let json = String(decoding: try report.json(), as: UTF8.self)
        #expect(
            json
                == #"{"contact-info":"c@o.test","date-range":{"end-datetime":"2025-12-03T23:59:59Z","start-datetime":"2025-12-03T00:00:00Z"},"organization-name":"Org","policies":[{"failure-details":[{"failed-session-count":3,"receiving-ip":"192.0.2.9","receiving-mx-hostname":"mx.a.test","result-type":"starttls-not-supported","sending-mta-ip":"192.0.2.1"}],"policy":{"policy-domain":"a.test","policy-type":"no-policy-found"},"summary":{"total-failure-session-count":3,"total-successful-session-count":0}},{"failure-details":[{"failed-session-count":2,"receiving-ip":"192.0.2.9","receiving-mx-hostname":"mx.a.test","result-type":"validation-failure","sending-mta-ip":"192.0.2.1"},{"failed-session-count":1,"failure-reason-code":"tls-version-too-low","receiving-ip":"192.0.2.9","receiving-mx-hostname":"mx.a.test","result-type":"validation-failure","sending-mta-ip":"192.0.2.1"}],"policy":{"mx-host":["mx.a.test"],"policy-domain":"a.test","policy-string":["3 1 1 abcd"],"policy-type":"tlsa"},"summary":{"total-failure-session-count":3,"total-successful-session-count":5}}],"report-id":"r-1"}"#
        )
        #expect(report.fileName(submitter: "relay.test") == "relay.test!a.test!1764720000!1764806399!r-1.json.gz")
    }

    @Test(
        arguments: [
            (["v=TLSRPTv1; rua=mailto:a@b.test,https://c.test/r"], ["mailto:a@b.test", "https://c.test/r"]),
            (["v=TLSRPTv1;rua=https://c.test/r", "v=spf1 -all"], ["https://c.test/r"]),
            (["v=TLSRPTv1; rua=https://c.test/r", "v=TLSRPTv1; rua=mailto:a@b.test"], nil),  // two records: none (§3)
            (["v=TLSRPTv1; rua=http://c.test/r,ftp://x"], nil),  // only mailto: and https:
            (["v=TLSRPTv2; rua=mailto:a@b.test"], nil),
            ([String](), nil),
        ] as [([String], [String]?)])
    func theRecordNamesWhereReportsGo(_ texts: [String], _ expected: [String]?) {
        #expect(TLSRPTRecord.reportingURIs(texts) == expected)
    }

    @Test func theMailIsAMultipartReportThatNoTLSFailureStops() {
        let report = TLSReport(
            organization: "Org", contact: "c@o.test", reportID: "r-1", domain: "a.test", start: 0, end: 86_399, sessions: [])
        let text = String(
            decoding: report.message(
                from: "tlsrpt@relay.test", to: "rua@a.test", submitter: "relay.test", gzipped: [1, 2, 3], messageID: "m1@relay.test",
                date: Date(timeIntervalSince1970: 0)), as: UTF8.self)
        for line in [
            "From: tlsrpt@relay.test", "To: rua@a.test", "TLS-Report-Domain: a.test", "TLS-Report-Submitter: relay.test",
            "TLS-Required: No", "Content-Type: multipart/report; report-type=\"tlsrpt\";", "Content-Type: application/tlsrpt+gzip",
            "\tfilename=\"relay.test!a.test!0!86399!r-1.json.gz\"", "AQID", "Message-ID: <m1@relay.test>",
        ] {
            #expect(text.contains("\r\n\(line)\r\n") || text.hasPrefix("\(line)\r\n"), "\(line)")
        }
        #expect(!text.contains("\n\n") && text.hasSuffix("--\r\n"))
    }
}
