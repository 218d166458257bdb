import Foundation

/// The period and grouping of a stats request (`start_date`, `end_date`, `aggregated_by`).
public struct StatsQuery: Sendable, Equatable {
    public enum Aggregation: String, Sendable, Equatable { case day, week, month }

    /// UTC days since the epoch, inclusive.
    public var startDay: Int
    public var endDay: Int
    public var aggregation: Aggregation

    /// The longest period one request may cover.
    public static let maxDays = 1096

    /// `YYYY-MM-DD` (proleptic Gregorian, years 0001–9999) as days since 1970-01-01, by
    /// arithmetic rather than a calendar object, so that every date the schema allows parses.
    public static func day(_ text: String) -> Int? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard text.count == 10, parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }),
            let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]), y >= 1, (1...12).contains(m)
        else { return nil }
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let lengths = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...lengths[m - 1]).contains(d) else { return nil }
        // Howard Hinnant's days_from_civil.
        let yy = m <= 2 ? y - 1 : y
        let era = (yy >= 0 ? yy : yy - 399) / 400
        let yoe = yy - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// Days since 1970-01-01 as (year, month, day) (Hinnant's civil_from_days).
    static func civil(_ day: Int) -> (Int, Int, Int) {
        let z = day + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    public static func date(_ day: Int) -> String {
        let (y, m, d) = civil(day)
        func pad(_ n: Int, _ w: Int) -> String { String(repeating: "0", count: max(0, w - String(n).count)) + String(n) }
        return "\(pad(y, 4))-\(pad(m, 2))-\(pad(d, 2))"
    }

    /// SendGrid's rules: `start_date` required, `end_date` defaulting to today (UTC), not before
    /// the start, `aggregated_by` one of day, week, month. Every problem is named.
    public static func parse(startDate: String?, endDate: String?, aggregatedBy: String?, today: Int) throws -> StatsQuery {
        var errors: [FieldError] = []
        var start: Int?
        switch startDate {
        case nil, "": errors.append(FieldError(field: "start_date", message: "missing required argument"))
        case let text?:
            start = day(text)
            if start == nil {
                errors.append(FieldError(field: "start_date", message: "start_date must be a date in the format YYYY-MM-DD"))
            }
        }
        var end = today
        if let text = endDate, !text.isEmpty {
            if let d = day(text) {
                end = d
            } else {
                errors.append(FieldError(field: "end_date", message: "end_date must be a date in the format YYYY-MM-DD"))
            }
        }
        var aggregation = Aggregation.day
        if let text = aggregatedBy, !text.isEmpty {
            if let a = Aggregation(rawValue: text) {
                aggregation = a
            } else {
                errors.append(FieldError(field: "aggregated_by", message: "aggregated_by must be day, week or month"))
            }
        }
        if let start, errors.isEmpty {
            if end < start {
                errors.append(FieldError(field: "end_date", message: "end_date must not be before start_date"))
            } else if end - start >= maxDays {
                errors.append(FieldError(field: "end_date", message: "the period may cover at most \(maxDays) days"))
            }
        }
        guard errors.isEmpty, let start else { throw ValidationFailure(errors) }
        return StatsQuery(startDay: start, endDay: end, aggregation: aggregation)
    }

    /// The first day of the bucket `day` falls in: itself, its ISO week's Monday, or its
    /// month's first day — never before the period's start (SendGrid dates a partial first
    /// bucket by the start date).
    public func bucket(_ day: Int) -> Int {
        switch aggregation {
        case .day: return day
        case .week:
            let weekday = ((day + 3) % 7 + 7) % 7  // 1970-01-01 was a Thursday: 0 = Monday
            return max(startDay, day - weekday)
        case .month:
            return max(startDay, day - Self.civil(day).2 + 1)
        }
    }

    /// Every bucket of the period, in order.
    public var buckets: [Int] {
        var out: [Int] = []
        for d in startDay...endDay where out.last != bucket(d) { out.append(bucket(d)) }
        return out
    }
}

/// `GET /v3/stats`: SendGrid's global stats, one entry per bucket of the period.
public struct GlobalStatsEntry: Encodable, Sendable, Equatable {
    public var date: String
    public var stats: [Metrics]

    public struct Metrics: Encodable, Sendable, Equatable {
        public var metrics: [String: Int]
    }

    /// SendGrid's metrics; those Sealpost cannot know (opens, clicks, spam reports,
    /// unsubscribes through links) stay 0.
    public static let metricNames = [
        "blocks", "bounce_drops", "bounces", "clicks", "deferred", "delivered", "invalid_emails", "opens", "processed", "requests",
        "spam_report_drops", "spam_reports", "unique_clicks", "unique_opens", "unsubscribe_drops", "unsubscribes",
    ]

    public static func build(_ counts: [(day: Int, metric: String, count: Int)], query: StatsQuery) -> [GlobalStatsEntry] {
        var sums: [Int: [String: Int]] = [:]
        for c in counts where metricNames.contains(c.metric) { sums[query.bucket(c.day), default: [:]][c.metric, default: 0] += c.count }
        return query.buckets.map { b in
            var m = Dictionary(uniqueKeysWithValues: metricNames.map { ($0, 0) })
            for (k, v) in sums[b] ?? [:] { m[k] = v }
            return GlobalStatsEntry(date: StatsQuery.date(b), stats: [Metrics(metrics: m)])
        }
    }
}

/// `GET /v3/user/settings/enforced_tls/stats`: delivered messages per day by the highest TLS
/// level reached, and by TLS version.
public struct TLSStatsEntry: Encodable, Sendable, Equatable {
    public var date: String
    public var levels: [String: Int]
    public var versions: [String: Int]

    public static func build(_ counts: [(day: Int, metric: String, count: Int)], query: StatsQuery) -> [TLSStatsEntry] {
        var levels: [Int: [String: Int]] = [:]
        var versions: [Int: [String: Int]] = [:]
        for c in counts {
            if c.metric.hasPrefix("tls_level:") {
                levels[query.bucket(c.day), default: [:]][String(c.metric.dropFirst(10)), default: 0] += c.count
            } else if c.metric.hasPrefix("tls_version:") {
                versions[query.bucket(c.day), default: [:]][String(c.metric.dropFirst(12)), default: 0] += c.count
            }
        }
        return query.buckets.map { b in
            var l = Dictionary(uniqueKeysWithValues: DeliveredTLSLevel.allCases.map { ($0.rawValue, 0) })
            for (k, v) in levels[b] ?? [:] where l[k] != nil { l[k] = v }
            var v = Dictionary(uniqueKeysWithValues: TLSVersion.allCases.map { ($0.rawValue, 0) })
            for (k, n) in versions[b] ?? [:] { v[k, default: 0] += n }
            return TLSStatsEntry(date: StatsQuery.date(b), levels: l, versions: v)
        }
    }
}
