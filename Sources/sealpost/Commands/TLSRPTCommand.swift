import ArgumentParser
import Foundation
import Logging
import SealpostCore
import SealpostDelivery

/// `sealpost tlsrpt send`: one day's TLS reports now, exactly as the server would send them
/// (and marked sent, so the server does not send them again).
struct TLSRPTCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tlsrpt", abstract: "TLS reports (RFC 8460) to recipient domains.", subcommands: [Send.self])

    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send one UTC day's reports now (idempotent: a day's report to a domain goes out once).")
        @OptionGroup var db: DatabaseOption
        @OptionGroup var delivery: DeliveryOptions
        @OptionGroup var reports: TLSReportOptions
        @Option(help: "The UTC day, YYYY-MM-DD.") var date: String
        @Flag(help: "Report a day that has not ended, up to now (its reports are then marked sent like a finished day's).")
        var includeUnfinished = false

        func run() async throws {
            guard let day = StatsQuery.day(date) else { throw ValidationError("--date must be YYYY-MM-DD, got \(date)") }
            let now = Date()
            let today = Int(now.timeIntervalSince1970) / 86_400
            if day >= today && !(includeUnfinished && day == today) {
                FileHandle.standardError.write(
                    Data("sealpost: \(date) has not ended (UTC); give --include-unfinished to report it up to now\n".utf8))
                throw ExitCode(2)
            }
            var logger = Logger(label: "sealpost")
            logger.logLevel = .warning
            let store = try await db.open()
            defer { store.close() }
            let stack = try delivery.build(store: store, logger: logger)
            let roots = Environment.value(flag: delivery.trustRoots, env: "SEALPOST_TRUST_ROOTS", default: "")
            let reporter = TLSReporter(
                store: store, dns: stack.resolver.dns,
                configuration: try reports.configuration(helo: delivery.helo, trustRoots: roots.isEmpty ? nil : roots), logger: logger)
            let summary = try await reporter.run(day: day, plan: [day], end: { TLSReportDay.end(of: $0, now: now) }, now: now)
            print(
                "\(summary.sent) sent, \(summary.notWanted) domains without TLS reporting, \(summary.failed) failed (retried by the server)"
            )
            if summary.failed > 0 { throw ExitCode(1) }
        }
    }
}
