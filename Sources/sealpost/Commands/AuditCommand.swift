import ArgumentParser
import Foundation
import SealpostCore
import SealpostStorage

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "audit", abstract: "Show the Enforced TLS audit trail, oldest first.")
    @OptionGroup var db: DatabaseOption
    @Option(help: "Only this user's changes.") var user: String?

    func run() async throws {
        let store = try await db.open()
        let userID = try await store.userID(named: user)
        let formatter = ISO8601DateFormatter()
        for entry in try await store.auditEntries(userID: userID) {
            var line = "\(formatter.string(from: entry.at)) user=\(entry.userName) via=\(entry.actor.via)"
            line += " key=\(entry.actor.keyID ?? "-")"
            if let obo = entry.actor.onBehalfOf { line += " on-behalf-of=\"\(obo)\"" }
            line += " old=\(entry.old.json) new=\(entry.new.json)"
            print(line)
        }
    }
}
