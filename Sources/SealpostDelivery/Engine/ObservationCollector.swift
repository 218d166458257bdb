import Foundation
import SealpostCore
import SealpostSMTP
import Synchronization

/// Gathers what one scheduling round's sessions found (per user, recipient domain and day) so
/// it is written once per round, not once per session; the impact report reads it.
final class ObservationCollector: Sendable {
    private let found = Mutex<[TLSObservation: (messages: Int, lastSeen: Int)]>([:])

    /// One session with a host of `domain` that reached the TLS decision, carrying `deliveries`.
    func add(_ deliveries: [QueuedDelivery], domain: String, starttls: Bool, tls: TLSFacts?, now: Date) {
        let t = Int(now.timeIntervalSince1970)
        let verdict = tls.map { PreflightCheck.verdictName($0.certificate) }
        found.withLock { found in
            for (user, group) in Dictionary(grouping: deliveries, by: \.userID) {
                let key = TLSObservation(
                    userID: user, domain: domain, day: t / 86_400, starttls: starttls || tls != nil, encrypted: tls != nil,
                    tlsVersion: tls?.version?.rawValue, certificate: verdict, daneAuthenticated: tls?.daneAuthenticated ?? false,
                    messages: 0, lastSeen: 0)
                let old = found[key] ?? (0, 0)
                found[key] = (old.messages + group.count, max(old.lastSeen, t))
            }
        }
    }

    /// Everything gathered, emptied.
    func drain() -> [TLSObservation] {
        found.withLock { found in
            defer { found = [:] }
            return found.map { key, value in
                var o = key
                o.messages = value.messages
                o.lastSeen = value.lastSeen
                return o
            }
        }
    }
}

extension SessionTLS {
    /// The session's TLS as the policies judged it (`nil` in plaintext).
    var facts: TLSFacts? {
        guard reached != .none, let certificate else { return nil }
        var f = TLSFacts(version: version, certificate: certificate, cipher: cipher, summary: summary)
        if daneAuthenticated { f.dane = .endEntity }
        return f
    }
}
