import Foundation
import PostgresNIO
import SealpostCore
import SealpostStorage

/// The impact report's findings on PostgreSQL (every node adds to the same rows).
extension PostgresStore {
    public func recordTLSObservations(_ observations: [TLSObservation]) async throws {
        guard !observations.isEmpty else { return }
        let oldest = Int64((observations.map(\.day).max() ?? 0) - TLSObservation.retentionDays)
        let o = observations
        try await transaction { [logger] tx in
            try await tx.query(
                """
                INSERT INTO tls_observations (user_id, domain, day, starttls, encrypted, tls_version, certificate, dane, messages, last_seen)
                SELECT * FROM unnest(\(o.map(\.userID))::bigint[], \(o.map(\.domain))::text[], \(o.map { Int64($0.day) })::bigint[],
                    \(o.map(\.starttls))::boolean[], \(o.map(\.encrypted))::boolean[], \(o.map { $0.tlsVersion ?? "" })::text[],
                    \(o.map { $0.certificate ?? "" })::text[], \(o.map(\.daneAuthenticated))::boolean[],
                    \(o.map { Int64($0.messages) })::bigint[], \(o.map { Int64($0.lastSeen) })::bigint[])
                ON CONFLICT (user_id, domain, day, starttls, encrypted, tls_version, certificate, dane)
                DO UPDATE SET messages = tls_observations.messages + excluded.messages,
                    last_seen = GREATEST(tls_observations.last_seen, excluded.last_seen)
                """, logger: logger)
            try await tx.query("DELETE FROM tls_observations WHERE day < \(oldest)", logger: logger)
        }
    }

    public func tlsObservations(userID: Int64?, sinceDay day: Int) async throws -> [TLSObservation] {
        try await withConnection { [logger] c in
            var out: [TLSObservation] = []
            for try await (uid, domain, d, starttls, encrypted, version, certificate, dane, messages, last) in try await c.query(
                """
                SELECT user_id, domain, day, starttls, encrypted, tls_version, certificate, dane, messages, last_seen FROM tls_observations
                WHERE (\(userID)::bigint IS NULL OR user_id = \(userID)) AND day >= \(Int64(day)) ORDER BY day, domain
                """, logger: logger
            ).decode((Int64, String, Int64, Bool, Bool, String, String, Bool, Int64, Int64).self) {
                out.append(
                    TLSObservation(
                        userID: uid, domain: domain, day: Int(d), starttls: starttls, encrypted: encrypted,
                        tlsVersion: version.isEmpty ? nil : version, certificate: certificate.isEmpty ? nil : certificate,
                        daneAuthenticated: dane, messages: Int(messages), lastSeen: Int(last)))
            }
            return out
        }
    }
}
