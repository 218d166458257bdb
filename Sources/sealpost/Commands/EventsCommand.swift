import ArgumentParser
import SealpostCore
import SealpostStorage

struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events", abstract: "Print stored Event Webhook events as JSON lines, oldest first.")
    @OptionGroup var db: DatabaseOption
    @Option(help: "Only this user's events.") var user: String?
    @Option(help: "At most this many events.") var limit: Int = 10_000

    func run() async throws {
        let store = try await db.open()
        let userID = try await store.userID(named: user)
        for event in try await store.events(userID: userID, limit: limit) { print(event.payload) }
    }
}
