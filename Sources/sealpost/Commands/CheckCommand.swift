import ArgumentParser
import Foundation
import Logging
import SealpostCore
import SealpostDelivery
import SealpostStorage

/// `sealpost check DOMAIN`: the pre-flight TLS check from the command line, with the same
/// resolution options as `serve`, so it decides exactly as the server would.
struct CheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check how mail to a domain would travel under Enforced TLS (connects, never sends mail).")
    @OptionGroup var db: DatabaseOption
    @OptionGroup var delivery: DeliveryOptions
    @Option(help: "Evaluate this user's settings and domain entries (default: opportunistic settings, no entries).") var user: String?
    @OptionGroup var proposed: ProposedSettingsOptions
    @Flag(help: "Print the API's JSON instead of a table.") var json = false
    @Argument(help: "The recipient domain, e.g. example.com.") var domain: String

    func run() async throws {
        guard let name = DomainTLSEntry.normalize(domain), !name.hasPrefix(".") else {
            throw ValidationError("DOMAIN must be a domain name (not an IP address, [IP] or host:port), got \(domain)")
        }
        var logger = Logger(label: "sealpost.check")
        logger.logLevel = .error
        let store = try await db.open()
        defer { store.close() }
        var settings = EnforcedTLSSettings.default
        var entries: [DomainTLSEntry] = []
        if let user {
            guard let u = try await store.user(named: user) else { throw ValidationError("no user named \(user)") }
            settings = try await store.enforcedTLS(userID: u.id)
            entries = try await store.domainTLSEntries(userID: u.id)
        }
        settings = try proposed.applied(to: settings)
        let report = await (try delivery.build(store: store, logger: logger)).checker(logger: logger)
            .check(domain: name, settings: settings, entries: entries)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(Self.table(report))
        }
        if !report.wouldDeliver { throw ExitCode(1) }
    }

    /// One row per MX host, then the verdict.
    static func table(_ r: TLSCheckReport) -> String {
        var lines = [
            "domain \(r.domain): require_tls=\(r.settings.requireTLS) require_valid_cert=\(r.settings.requireValidCert) version=\(r.settings.version.rawValue)"
                + (r.policies.domainEntry.map { " (domain entry \($0.domain))" } ?? "")
        ]
        let header = ["mx", "address", "starttls", "tls", "certificate", "dane", "mta-sts", "verdict"]
        var rows = [header]
        for h in r.mx {
            rows.append([
                h.host, h.addresses.first ?? "-", h.starttls ? "yes" : "no", h.tlsVersion ?? "-", h.certificate?.verdict ?? "-",
                h.dane ?? "off", h.mtaSTS ?? "off", h.wouldDeliver ? "deliver" : (h.tlsFailure?.resultType ?? "fail"),
            ])
        }
        let widths = header.indices.map { i in rows.map { $0[i].count }.max() ?? 0 }
        for row in rows {
            lines.append(row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  "))
        }
        for h in r.mx where h.reason != nil { lines.append("  \(h.host): \(h.reason!)") }
        lines.append(r.wouldDeliver ? "would deliver" : "would NOT deliver: \(r.reason ?? "no host would take the mail")")
        return lines.joined(separator: "\n")
    }
}
