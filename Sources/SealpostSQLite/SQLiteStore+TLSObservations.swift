import Foundation
import GRDB
import SealpostCore
import SealpostStorage

/// The impact report's findings on SQLite.
extension SQLiteStore {
    public func recordTLSObservations(_ observations: [TLSObservation]) async throws {
        guard !observations.isEmpty else { return }
        let oldest = (observations.map(\.day).max() ?? 0) - TLSObservation.retentionDays
        try await write([]) { db in
            let upsert = try db.cachedStatement(
                sql: """
                    INSERT INTO tls_observations
                        (user_id, domain, day, starttls, encrypted, tls_version, certificate, dane, messages, last_seen)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (user_id, domain, day, starttls, encrypted, tls_version, certificate, dane)
                    DO UPDATE SET messages = messages + excluded.messages, last_seen = max(last_seen, excluded.last_seen)
                    """)
            for o in observations {
                try upsert.execute(arguments: [
                    o.userID, o.domain, o.day, o.starttls, o.encrypted, o.tlsVersion ?? "", o.certificate ?? "", o.daneAuthenticated,
                    o.messages, o.lastSeen,
                ])
            }
            try db.execute(sql: "DELETE FROM tls_observations WHERE day < ?", arguments: [oldest])
        }
    }

    public func tlsObservations(userID: Int64?, sinceDay day: Int) async throws -> [TLSObservation] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT * FROM tls_observations WHERE (? IS NULL OR user_id = ?) AND day >= ? ORDER BY day, domain",
                arguments: [userID, userID, day]
            ).map { r in
                let version: String = r["tls_version"]
                let certificate: String = r["certificate"]
                return TLSObservation(
                    userID: r["user_id"], domain: r["domain"], day: r["day"], starttls: r["starttls"], encrypted: r["encrypted"],
                    tlsVersion: version.isEmpty ? nil : version, certificate: certificate.isEmpty ? nil : certificate,
                    daneAuthenticated: r["dane"], messages: r["messages"], lastSeen: r["last_seen"])
            }
        }
    }
}
