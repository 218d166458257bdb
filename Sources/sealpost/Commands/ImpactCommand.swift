import ArgumentParser
import Foundation
import SealpostCore
import SealpostDelivery
import SealpostStorage

/// `sealpost impact`: the "what would be blocked" report from the command line.
struct ImpactCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "impact", abstract: "Which recipient domains proposed Enforced TLS settings would block, from recent deliveries.")
    @OptionGroup var db: DatabaseOption
    @Option(help: "The user whose mail is judged, with its settings and domain entries (default: every user's mail, default settings).")
    var user: String?
    @OptionGroup var proposed: ProposedSettingsOptions
    @Option(help: "Days of deliveries to look at (1-30, default 30).") var days: Int = TLSObservation.retentionDays
    @Flag(help: "Print the API's JSON instead of a table.") var json = false

    func run() async throws {
        guard (1...TLSObservation.retentionDays).contains(days) else { throw ValidationError("--days must be 1-30") }
        let store = try await db.open()
        defer { store.close() }
        var settings = EnforcedTLSSettings.default
        var entries: [DomainTLSEntry] = []
        var userID: Int64?
        if let user {
            guard let u = try await store.user(named: user) else { throw ValidationError("no user named \(user)") }
            settings = try await store.enforcedTLS(userID: u.id)
            entries = try await store.domainTLSEntries(userID: u.id)
            userID = u.id
        }
        settings = try proposed.applied(to: settings)
        let window = TLSImpactReport.window(days: days, now: Int(Date().timeIntervalSince1970))
        let report = TLSImpactReport.build(
            observations: try await store.tlsObservations(userID: userID, sinceDay: window.firstDay), settings: settings, entries: entries,
            period: window.period, judge: ImpactJudge().wouldBlock)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        print(
            "\(report.domainsSeen) domains, \(report.messagesSeen) messages in the last \(days) days; with require_tls=\(settings.requireTLS) require_valid_cert=\(settings.requireValidCert) version=\(settings.version.rawValue):"
        )
        if report.wouldBlock.isEmpty { print("nothing would be blocked") }
        for b in report.wouldBlock {
            print("\(b.domain)\t\(b.messages) messages\t\(b.tlsFailure.resultType) (\(b.tlsFailure.policy))")
        }
        for d in report.notSeenRecently { print("no recent mail to domain entry \(d)") }
    }
}
