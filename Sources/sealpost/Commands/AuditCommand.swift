import ArgumentParser
import Foundation
import SealpostCore
import SealpostStorage

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Show the Enforced TLS audit trail (the setting and per-domain entries), oldest first.")
    @OptionGroup var db: DatabaseOption
    @Option(help: "Only this user's changes.") var user: String?

    func run() async throws {
        let store = try await db.open()
        let userID = try await store.userID(named: user)
        let formatter = ISO8601DateFormatter()
        func prefix(_ at: Date, _ user: String, _ actor: AuditActor) -> String {
            var line = "\(formatter.string(from: at)) user=\(user) via=\(actor.via) key=\(actor.keyID ?? "-")"
            if let obo = actor.onBehalfOf { line += " on-behalf-of=\"\(obo)\"" }
            return line
        }
        // Both trails in one time order; a setting change before a domain change at the same instant.
        var lines: [(at: Date, rank: Int, id: Int64, text: String)] = []
        for e in try await store.auditEntries(userID: userID) {
            lines.append((e.at, 0, e.id, prefix(e.at, e.userName, e.actor) + " old=\(e.old.json) new=\(e.new.json)"))
        }
        for e in try await store.domainAuditEntries(userID: userID) {
            let text = prefix(e.at, e.userName, e.actor) + " domain=\(e.domain) old=\(e.old?.json ?? "none") new=\(e.new?.json ?? "none")"
            lines.append((e.at, 1, e.id, text))
        }
        for line in lines.sorted(by: { ($0.at, $0.rank, $0.id) < ($1.at, $1.rank, $1.id) }) { print(line.text) }
    }
}
