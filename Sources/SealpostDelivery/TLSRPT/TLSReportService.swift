import Foundation
import Logging
import ServiceLifecycle

/// The server's own TLS reporting: every few minutes, the reports of the last days that ended
/// (planned once per day and domain) and any retry that is due go out, so a finished day's
/// reports leave within minutes after midnight UTC, well inside RFC 8460's expectation.
public struct TLSReportService: Service {
    let reporter: TLSReporter
    let interval: Duration
    let logger: Logger

    public init(reporter: TLSReporter, interval: Duration = .seconds(300), logger: Logger) {
        self.reporter = reporter
        self.interval = interval
        self.logger = logger
    }

    /// The days a tick plans: the last `catchUp` that have ended (a node down over midnight
    /// still reports them).
    static func daysToPlan(now: Date, catchUp: Int = 3) -> [Int] {
        let today = Int(now.timeIntervalSince1970) / 86_400
        return (1...catchUp).map { today - $0 }
    }

    public func run() async throws {
        logger.info("TLS reporting is on", metadata: ["interval_s": "\(interval.components.seconds)"])
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let now = Date()
                let summary = try await reporter.run(
                    day: nil, plan: Self.daysToPlan(now: now), end: { TLSReportDay.end(of: $0, now: now) }, now: now)
                if summary != TLSReporter.Summary() {
                    logger.info(
                        "TLS reports",
                        metadata: ["sent": "\(summary.sent)", "not_wanted": "\(summary.notWanted)", "failed": "\(summary.failed)"])
                }
            } catch {
                logger.error("TLS reporting round failed", metadata: ["error": "\(error)"])
            }
            try? await gracefulShutdownOrSleep(interval)
        }
    }

    private func gracefulShutdownOrSleep(_ d: Duration) async throws {
        try await cancelWhenGracefulShutdown { try await Task.sleep(for: d) }
    }
}

/// When a report's `date-range` ends: the day's last second, or now for a day not over yet.
public enum TLSReportDay {
    public static func end(of day: Int, now: Date) -> Int {
        min(day * 86_400 + 86_399, Int(now.timeIntervalSince1970))
    }
}
