import ArgumentParser
import SealpostCore
import SealpostStorage

/// `sealpost migrate`: applies pending schema migrations, explicitly. Needed before the first
/// `serve` on PostgreSQL and after every upgrade; on SQLite `serve` does it by itself, and this
/// command does the same without starting a server.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Apply pending database migrations and print the schema version.")
    @OptionGroup var db: DatabaseOption

    func run() async throws {
        let store = try await db.open(migrate: true)
        defer { store.close() }
        let applied = try await store.appliedMigrations()
        print("schema: \(applied.last ?? "empty") (\(applied.count) migrations) on \(store.displayName)")
    }
}
