import Foundation
import SealpostCore

/// One day's report to one policy domain, claimed by one sender (a node or `sealpost tlsrpt send`).
public struct TLSReportJob: Sendable, Equatable {
    public var day: Int
    public var domain: String
    public var reportID: String
    public var attempts: Int
    /// The `rua` URIs already served by an earlier attempt: not sent to again.
    public var done: [String]

    public init(day: Int, domain: String, reportID: String, attempts: Int, done: [String]) {
        self.day = day
        self.domain = domain
        self.reportID = reportID
        self.attempts = attempts
        self.done = done
    }
}

/// How an attempt at a report ended.
public enum TLSReportOutcome: Sendable, Equatable {
    /// Every `rua` served (or the domain asks for no reports): never sent again.
    case sent(done: [String])
    case noReportWanted
    /// Some `rua` failed: tried again after `until`, skipping `done`.
    case retry(until: Date, done: [String], error: String)
}

/// TLS reporting's storage (RFC 8460): the sessions of delivery, counted per day, policy domain,
/// policy and result; and one row per (day, policy domain) report, claimed with a lease so that
/// a report goes out once whichever node or command sends it.
public protocol TLSReportStore: Sendable {
    /// Adds to the counts (a new key gets its row) and drops days older than the retention.
    func recordTLSRPTSessions(_ sessions: [TLSRPTSession]) async throws
    func tlsrptSessions(day: Int, domain: String) async throws -> [TLSRPTSession]
    /// Creates the pending report rows of `day` for every policy domain with sessions that day
    /// and no row yet (an existing row, sent or not, is left as it is).
    func planTLSReports(day: Int, now: Date) async throws
    /// Leases up to `limit` pending reports that are due (`day` only, when given) to this sender.
    func claimTLSReports(day: Int?, now: Date, lease: TimeInterval, limit: Int) async throws -> [TLSReportJob]
    /// Records how an attempt ended; false when this sender no longer holds the lease.
    func finishTLSReport(_ job: TLSReportJob, _ outcome: TLSReportOutcome, now: Date) async throws -> Bool
    /// `(day, domain, state)` of every report row (`pending`, `sent`, `none`), for status and tests.
    func tlsReportStates() async throws -> [(day: Int, domain: String, state: String)]
}

extension TLSRPTSession {
    /// Stored columns of the key: the policy's strings and hosts as JSON text, '' for what a
    /// success does not have.
    public var storedPolicyStrings: String { (try? RowCoding.json(policy.strings)) ?? "[]" }
    public var storedMXHosts: String { (try? RowCoding.json(policy.mxHosts)) ?? "[]" }

    /// From the stored columns.
    public static func fromRow(
        day: Int, domain: String, type: String, strings: String, mxHosts: String, resultType: String, sendingIP: String,
        receivingMX: String, receivingIP: String, reasonCode: String, sessions: Int
    ) throws -> TLSRPTSession {
        let decoder = JSONDecoder()
        let policy = TLSRPTPolicy(
            kind: TLSRPTPolicy.Kind(rawValue: type) ?? .noPolicyFound,
            strings: try decoder.decode([String].self, from: Data(strings.utf8)),
            mxHosts: try decoder.decode([String].self, from: Data(mxHosts.utf8)))
        let failure =
            resultType.isEmpty
            ? nil
            : TLSRPTSession.Failure(
                resultType: resultType, sendingIP: sendingIP, receivingMX: receivingMX, receivingIP: receivingIP,
                reasonCode: reasonCode.isEmpty ? nil : reasonCode)
        return TLSRPTSession(day: day, domain: domain, policy: policy, failure: failure, sessions: sessions)
    }

    /// Days kept (sent or not): as long as the impact report's observations.
    public static let retentionDays = 30
}

extension TLSReportJob {
    /// A report's `report-id`, fixed when the row is planned so that every attempt sends the
    /// same one: the day, the domain and a random part (RFC 8460 §4.4: unique per report).
    public static func newReportID(day: Int, domain: String) -> String {
        "\(StatsQuery.date(day))-\(domain)-\(UUID().uuidString.lowercased().prefix(8))"
    }
}

extension TLSReportOutcome {
    /// `(state, next_attempt_at, done, last_error)` as both backends store them.
    public var stored: (String, Double, [String], String) {
        switch self {
        case .sent(let done): ("sent", 0, done, "")
        case .noReportWanted: ("none", 0, [], "")
        case .retry(let until, let done, let error): ("pending", until.timeIntervalSince1970, done, String(error.prefix(500)))
        }
    }
}
