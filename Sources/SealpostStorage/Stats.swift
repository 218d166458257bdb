import SealpostCore

/// One stored counter: a user's count of `metric` on `day` (UTC days since the epoch).
public struct StatCount: Sendable, Hashable {
    public var userID: Int64
    public var day: Int
    public var metric: String
    public var count: Int

    public init(userID: Int64, day: Int, metric: String, count: Int) {
        self.userID = userID
        self.day = day
        self.metric = metric
        self.count = count
    }

    /// The counters `events` add to, summed per (user, day, metric): one upsert per counter
    /// per write, in the transaction that stores the events.
    public static func of(_ events: [EventRecord]) -> [StatCount] {
        var sums: [StatCount: Int] = [:]
        for e in events {
            for metric in e.counters { sums[StatCount(userID: e.userID, day: e.day, metric: metric, count: 0), default: 0] += 1 }
        }
        return sums.map { key, n in
            var c = key
            c.count = n
            return c
        }.sorted { ($0.userID, $0.day, $0.metric) < ($1.userID, $1.day, $1.metric) }
    }
}

/// The stats routes' data: counters kept as events are stored, so that a month of stats is a
/// few dozen rows, not a scan of the events.
public protocol StatsStore: Sendable {
    /// `userID`'s counters from `fromDay` to `toDay`, inclusive.
    func statCounts(userID: Int64, fromDay: Int, toDay: Int) async throws -> [StatCount]
}
