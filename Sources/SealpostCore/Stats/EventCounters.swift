import Foundation

/// The per-user, per-day counters an event adds to (`stats_daily`), decided where the event is
/// made so that the stats routes never read events back: SendGrid's metrics (`requests`,
/// `processed`, `delivered`, …) and, on `delivered`, the TLS level reached and the version.
public enum EventCounters {
    /// `dropped` reasons (SuppressionBypass) and the metric each counts under.
    static let dropMetrics = [
        "Bounced Address": "bounce_drops", "Unsubscribed Address": "unsubscribe_drops", "Invalid": "invalid_emails",
    ]

    public static func counters(event: String, fields: EventFields) -> [String] {
        switch event {
        case "processed": return ["requests", "processed"]
        case "dropped": return ["requests"] + (fields.reason.flatMap { dropMetrics[$0] }.map { [$0] } ?? [])
        case "delivered":
            var out = ["delivered"]
            if let level = fields.tlsLevel { out.append("tls_level:\(level.rawValue)") }
            if let version = fields.tlsVersion { out.append("tls_version:\(version)") }
            return out
        case "deferred": return ["deferred"]
        case "bounce": return [fields.type == "blocked" ? "blocks" : "bounces"]
        default: return []
        }
    }
}

/// The highest TLS level a delivered message reached, for the Enforced TLS stats:
/// `verified` is a certificate valid under the trust roots (required or not), `dane` a chain
/// that matched the host's TLSA records.
public enum DeliveredTLSLevel: String, Sendable, CaseIterable, Codable {
    case none, encrypted, verified, dane
}
