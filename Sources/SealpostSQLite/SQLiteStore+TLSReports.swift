import Foundation
import GRDB
import SealpostCore
import SealpostStorage

/// TLS reporting on SQLite (one server: the write lock is the claim's exclusion).
extension SQLiteStore {
    public func recordTLSRPTSessions(_ sessions: [TLSRPTSession]) async throws {
        guard !sessions.isEmpty else { return }
        let oldest = (sessions.map(\.day).max() ?? 0) - TLSRPTSession.retentionDays
        try await write([]) { db in
            let upsert = try db.cachedStatement(
                sql: """
                    INSERT INTO tlsrpt_sessions (day, domain, policy_type, policy_string, mx_host, result_type, sending_ip,
                        receiving_mx, receiving_ip, reason_code, sessions)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (day, domain, policy_type, policy_string, mx_host, result_type, sending_ip, receiving_mx,
                        receiving_ip, reason_code)
                    DO UPDATE SET sessions = sessions + excluded.sessions
                    """)
            for s in sessions {
                let f = s.failure
                try upsert.execute(arguments: [
                    s.day, s.domain, s.policy.kind.rawValue, s.storedPolicyStrings, s.storedMXHosts, f?.resultType ?? "",
                    f?.sendingIP ?? "", f?.receivingMX ?? "", f?.receivingIP ?? "", f?.reasonCode ?? "", s.sessions,
                ])
            }
            try db.execute(sql: "DELETE FROM tlsrpt_sessions WHERE day < ?", arguments: [oldest])
            try db.execute(sql: "DELETE FROM tlsrpt_reports WHERE day < ?", arguments: [oldest])
        }
    }

    public func tlsrptSessions(day: Int, domain: String) async throws -> [TLSRPTSession] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM tlsrpt_sessions WHERE day = ? AND domain = ?", arguments: [day, domain]).map { r in
                try TLSRPTSession.fromRow(
                    day: r["day"], domain: r["domain"], type: r["policy_type"], strings: r["policy_string"], mxHosts: r["mx_host"],
                    resultType: r["result_type"], sendingIP: r["sending_ip"], receivingMX: r["receiving_mx"],
                    receivingIP: r["receiving_ip"], reasonCode: r["reason_code"], sessions: r["sessions"])
            }
        }
    }

    public func planTLSReports(day: Int, now: Date) async throws {
        try await write([]) { db in
            let domains = try String.fetchAll(
                db, sql: "SELECT DISTINCT domain FROM tlsrpt_sessions WHERE day = ? ORDER BY domain", arguments: [day])
            for domain in domains {
                try db.execute(
                    sql: "INSERT INTO tlsrpt_reports (day, domain, report_id, state) VALUES (?, ?, ?, 'pending') ON CONFLICT DO NOTHING",
                    arguments: [day, domain, TLSReportJob.newReportID(day: day, domain: domain)])
            }
        }
    }

    public func claimTLSReports(day: Int?, now: Date, lease: TimeInterval, limit: Int) async throws -> [TLSReportJob] {
        let t = now.timeIntervalSince1970
        let owner = leaseOwner
        return try await write([]) { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT day, domain, report_id, attempts, done FROM tlsrpt_reports
                    WHERE state = 'pending' AND next_attempt_at <= ? AND lease_until <= ? AND (? IS NULL OR day = ?)
                    ORDER BY day, domain LIMIT ?
                    """, arguments: [t, t, day, day, limit])
            return try rows.map { r in
                try db.execute(
                    sql: "UPDATE tlsrpt_reports SET lease_until = ?, lease_owner = ?, attempts = attempts + 1 WHERE day = ? AND domain = ?",
                    arguments: [t + lease, owner, r["day"] as Int, r["domain"] as String])
                return TLSReportJob(
                    day: r["day"], domain: r["domain"], reportID: r["report_id"], attempts: (r["attempts"] as Int) + 1,
                    done: try JSONDecoder().decode([String].self, from: Data((r["done"] as String).utf8)))
            }
        }
    }

    public func finishTLSReport(_ job: TLSReportJob, _ outcome: TLSReportOutcome, now: Date) async throws -> Bool {
        let (state, next, done, error) = outcome.stored
        let owner = leaseOwner
        return try await write([]) { db in
            try db.execute(
                sql: """
                    UPDATE tlsrpt_reports SET state = ?, next_attempt_at = ?, done = ?, last_error = ?, lease_until = 0,
                        finished_at = CASE WHEN ? = 'pending' THEN NULL ELSE ? END
                    WHERE day = ? AND domain = ? AND lease_owner = ? AND state = 'pending'
                    """,
                arguments: [state, next, try RowCoding.json(done), error, state, now.timeIntervalSince1970, job.day, job.domain, owner])
            return db.changesCount == 1
        }
    }

    public func tlsReportStates() async throws -> [(day: Int, domain: String, state: String)] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT day, domain, state FROM tlsrpt_reports ORDER BY day, domain").map {
                (day: $0["day"], domain: $0["domain"], state: $0["state"])
            }
        }
    }
}
