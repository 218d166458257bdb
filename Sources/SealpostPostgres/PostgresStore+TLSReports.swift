import Foundation
import PostgresNIO
import SealpostCore
import SealpostStorage

/// TLS reporting on PostgreSQL: every node adds to the same session counts, and a report row is
/// leased with `FOR UPDATE SKIP LOCKED`, so two nodes never send the same day's report.
extension PostgresStore {
    public func recordTLSRPTSessions(_ sessions: [TLSRPTSession]) async throws {
        guard !sessions.isEmpty else { return }
        let oldest = Int64((sessions.map(\.day).max() ?? 0) - TLSRPTSession.retentionDays)
        let s = sessions
        try await transaction { [logger] tx in
            try await tx.query(
                """
                INSERT INTO tlsrpt_sessions (day, domain, policy_type, policy_string, mx_host, result_type, sending_ip, receiving_mx,
                    receiving_ip, reason_code, sessions)
                SELECT * FROM unnest(\(s.map { Int64($0.day) })::bigint[], \(s.map(\.domain))::text[],
                    \(s.map(\.policy.kind.rawValue))::text[], \(s.map(\.storedPolicyStrings))::text[], \(s.map(\.storedMXHosts))::text[],
                    \(s.map { $0.failure?.resultType ?? "" })::text[], \(s.map { $0.failure?.sendingIP ?? "" })::text[],
                    \(s.map { $0.failure?.receivingMX ?? "" })::text[], \(s.map { $0.failure?.receivingIP ?? "" })::text[],
                    \(s.map { $0.failure?.reasonCode ?? "" })::text[], \(s.map { Int64($0.sessions) })::bigint[])
                ON CONFLICT (day, domain, policy_type, policy_string, mx_host, result_type, sending_ip, receiving_mx, receiving_ip,
                    reason_code)
                DO UPDATE SET sessions = tlsrpt_sessions.sessions + excluded.sessions
                """, logger: logger)
            try await tx.query("DELETE FROM tlsrpt_sessions WHERE day < \(oldest)", logger: logger)
            try await tx.query("DELETE FROM tlsrpt_reports WHERE day < \(oldest)", logger: logger)
        }
    }

    public func tlsrptSessions(day: Int, domain: String) async throws -> [TLSRPTSession] {
        try await withConnection { [logger] c in
            var out: [TLSRPTSession] = []
            for try await (d, dom, type, strings, hosts, result, sip, rmx, rip, code, n) in try await c.query(
                """
                SELECT day, domain, policy_type, policy_string, mx_host, result_type, sending_ip, receiving_mx, receiving_ip,
                    reason_code, sessions
                FROM tlsrpt_sessions WHERE day = \(Int64(day)) AND domain = \(domain)
                """, logger: logger
            ).decode((Int64, String, String, String, String, String, String, String, String, String, Int64).self) {
                out.append(
                    try TLSRPTSession.fromRow(
                        day: Int(d), domain: dom, type: type, strings: strings, mxHosts: hosts, resultType: result, sendingIP: sip,
                        receivingMX: rmx, receivingIP: rip, reasonCode: code, sessions: Int(n)))
            }
            return out
        }
    }

    public func planTLSReports(day: Int, now: Date) async throws {
        try await withConnection { [logger] c in
            var domains: [String] = []
            for try await d in try await c.query(
                "SELECT DISTINCT domain FROM tlsrpt_sessions WHERE day = \(Int64(day))", logger: logger
            ).decode(String.self) { domains.append(d) }
            for domain in domains {
                try await c.query(
                    """
                    INSERT INTO tlsrpt_reports (day, domain, report_id, state)
                    VALUES (\(Int64(day)), \(domain), \(TLSReportJob.newReportID(day: day, domain: domain)), 'pending')
                    ON CONFLICT DO NOTHING
                    """, logger: logger)
            }
        }
    }

    public func claimTLSReports(day: Int?, now: Date, lease: TimeInterval, limit: Int) async throws -> [TLSReportJob] {
        let t = now.timeIntervalSince1970
        let wanted = day.map { Int64($0) }
        return try await withConnection { [self] c in
            var out: [TLSReportJob] = []
            for try await (d, domain, id, attempts, done) in try await c.query(
                """
                WITH due AS (
                    SELECT day, domain FROM tlsrpt_reports
                    WHERE state = 'pending' AND next_attempt_at <= \(t) AND lease_until <= \(t)
                        AND (\(wanted)::bigint IS NULL OR day = \(wanted))
                    ORDER BY day, domain LIMIT \(limit)
                    FOR UPDATE SKIP LOCKED
                )
                UPDATE tlsrpt_reports r SET lease_until = \(t + lease), lease_owner = \(leaseOwner), attempts = r.attempts + 1
                FROM due WHERE r.day = due.day AND r.domain = due.domain
                RETURNING r.day, r.domain, r.report_id, r.attempts, r.done
                """, logger: logger
            ).decode((Int64, String, String, Int64, String).self) {
                out.append(
                    TLSReportJob(
                        day: Int(d), domain: domain, reportID: id, attempts: Int(attempts),
                        done: try JSONDecoder().decode([String].self, from: Data(done.utf8))))
            }
            return out.sorted { ($0.day, $0.domain) < ($1.day, $1.domain) }
        }
    }

    public func finishTLSReport(_ job: TLSReportJob, _ outcome: TLSReportOutcome, now: Date) async throws -> Bool {
        let (state, next, done, error) = outcome.stored
        let doneJSON = try RowCoding.json(done)
        let finished: Double? = state == "pending" ? nil : now.timeIntervalSince1970
        return try await withConnection { [self] c in
            var changed = 0
            for try await _ in try await c.query(
                """
                UPDATE tlsrpt_reports SET state = \(state), next_attempt_at = \(next), done = \(doneJSON), last_error = \(error),
                    lease_until = 0, finished_at = \(finished)
                WHERE day = \(Int64(job.day)) AND domain = \(job.domain) AND lease_owner = \(leaseOwner) AND state = 'pending'
                RETURNING day
                """, logger: logger
            ) { changed += 1 }
            return changed == 1
        }
    }

    public func tlsReportStates() async throws -> [(day: Int, domain: String, state: String)] {
        try await withConnection { [logger] c in
            var out: [(day: Int, domain: String, state: String)] = []
            for try await (d, domain, state) in try await c.query(
                "SELECT day, domain, state FROM tlsrpt_reports ORDER BY day, domain", logger: logger
            ).decode((Int64, String, String).self) { out.append((Int(d), domain, state)) }
            return out
        }
    }
}
