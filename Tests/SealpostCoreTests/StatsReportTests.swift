import Foundation
import Testing

@testable import SealpostCore

/// The stats routes' pure parts: dates, buckets, SendGrid's metrics, the TLS levels, and the
/// counters each event adds to.
@Suite struct StatsReportTests {
    @Test(arguments: [
        ("1970-01-01", 0), ("2026-12-03", 20_790), ("2000-02-29", 11_016), ("0001-01-01", -719_162), ("1969-12-31", -1),
    ])
    func datesAreProlepticGregorianDays(_ text: String, _ day: Int) {
        #expect(StatsQuery.day(text) == day)
        #expect(StatsQuery.date(day) == text)
    }

    @Test(arguments: ["2026-02-29", "2026-13-01", "2026-1-01", "20260101", "2026-01-01T00:00", "", "0000-01-01", "２０２６-01-01"])
    func notADate(_ text: String) {
        #expect(StatsQuery.day(text) == nil)
    }

    @Test func queriesAreValidatedWithEveryProblemNamed() throws {
        let today = 20_790
        #expect(
            try StatsQuery.parse(startDate: "2026-12-01", endDate: nil, aggregatedBy: nil, today: today)
                == StatsQuery(startDay: 20_788, endDay: today, aggregation: .day))
        func fields(_ s: String?, _ e: String?, _ a: String?) -> [String?] {
            do {
                _ = try StatsQuery.parse(startDate: s, endDate: e, aggregatedBy: a, today: today)
                return []
            } catch let failure as ValidationFailure {
                return failure.errors.map(\.field)
            } catch { return ["?"] }
        }
        #expect(fields(nil, nil, nil) == ["start_date"])
        #expect(fields("x", "y", "year") == ["start_date", "end_date", "aggregated_by"])
        #expect(fields("2026-12-02", "2026-12-01", nil) == ["end_date"])
        #expect(fields("2020-01-01", "2022-12-31", nil) == [], "1,096 days in all")
        #expect(fields("2020-01-01", "2023-01-01", nil) == ["end_date"], "1,097 days")
    }

    @Test func bucketsStartOnMondaysAndFirstsButNeverBeforeTheStart() throws {
        let q = try StatsQuery.parse(startDate: "2026-01-01", endDate: "2026-03-02", aggregatedBy: "week", today: 30_000)
        #expect(q.buckets.prefix(3).map(StatsQuery.date) == ["2026-01-01", "2026-01-05", "2026-01-12"])
        #expect(q.bucket(StatsQuery.day("2026-03-02")!) == StatsQuery.day("2026-03-02"), "a Monday")
        let m = try StatsQuery.parse(startDate: "2024-01-31", endDate: "2024-03-01", aggregatedBy: "month", today: 30_000)
        #expect(m.buckets.map(StatsQuery.date) == ["2024-01-31", "2024-02-01", "2024-03-01"])
    }

    @Test func globalStatsSumSendGridsMetricsPerBucketAndTheRestIsZero() throws {
        let q = try StatsQuery.parse(startDate: "2026-01-01", endDate: "2026-01-07", aggregatedBy: "week", today: 30_000)
        let d = StatsQuery.day("2026-01-01")!
        let rows = [
            (day: d, metric: "delivered", count: 2), (day: d + 4, metric: "delivered", count: 3), (day: d + 5, metric: "blocks", count: 1),
            (day: d, metric: "tls_level:dane", count: 2),
        ]
        let out = GlobalStatsEntry.build(rows, query: q)
        #expect(out.map(\.date) == ["2026-01-01", "2026-01-05"])
        #expect(out[0].stats[0].metrics["delivered"] == 2 && out[1].stats[0].metrics["delivered"] == 3)
        #expect(out[1].stats[0].metrics["blocks"] == 1 && out[1].stats[0].metrics["opens"] == 0)
        #expect(out[0].stats[0].metrics.count == 16 && out[0].stats[0].metrics["tls_level:dane"] == nil)
        let tls = TLSStatsEntry.build(
            rows + [(day: d, metric: "tls_version:1.3", count: 2), (day: d, metric: "tls_version:1.0", count: 1)],
            query: try StatsQuery.parse(startDate: "2026-01-01", endDate: "2026-01-01", aggregatedBy: nil, today: 30_000))
        #expect(
            tls == [
                TLSStatsEntry(
                    date: "2026-01-01", levels: ["none": 0, "encrypted": 0, "verified": 0, "dane": 2],
                    versions: ["1.1": 0, "1.2": 0, "1.3": 2, "1.0": 1])
            ])
    }

    @Test func eachEventCountsWhereSendGridCountsIt() {
        #expect(EventCounters.counters(event: "processed", fields: EventFields()) == ["requests", "processed"])
        #expect(
            EventCounters.counters(event: "dropped", fields: EventFields(reason: "Unsubscribed Address")) == [
                "requests", "unsubscribe_drops",
            ])
        #expect(EventCounters.counters(event: "dropped", fields: EventFields(reason: "Bounced Address")) == ["requests", "bounce_drops"])
        #expect(EventCounters.counters(event: "dropped", fields: EventFields(reason: "Invalid")) == ["requests", "invalid_emails"])
        #expect(EventCounters.counters(event: "bounce", fields: EventFields(type: "blocked")) == ["blocks"])
        #expect(EventCounters.counters(event: "bounce", fields: EventFields(type: "bounce")) == ["bounces"])
        var f = EventFields(tlsVersion: "1.3")
        f.tlsLevel = .verified
        #expect(EventCounters.counters(event: "delivered", fields: f) == ["delivered", "tls_level:verified", "tls_version:1.3"])
        #expect(EventCounters.counters(event: "deferred", fields: EventFields()) == ["deferred"])
    }
}
