import ArgumentParser
import SealpostCore
import SealpostStorage

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Manage API keys.", subcommands: [Create.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an API key. The key is printed once, alone on the last line of standard output.")
        @OptionGroup var db: DatabaseOption
        @Option(help: "The account, subuser or customer account that owns the key.") var user: String
        @Option(name: .customLong("scope"), help: "A scope to grant (repeatable). None: full access.") var scopes: [String] = []
        @Option(help: "A label for the key.") var name: String?

        func run() async throws {
            let unknown = scopes.filter { !Scope.isKnown($0) }
            if !unknown.isEmpty {
                throw ValidationError("unknown scope(s): \(unknown.joined(separator: ", ")); known: \(Scope.all.joined(separator: ", "))")
            }
            let store = try await db.open()
            guard let owner = try await store.user(named: user) else { throw ValidationError("no user named \(user)") }
            let grant: ScopeGrant = scopes.isEmpty ? .fullAccess : .scopes(Set(scopes))
            let (token, key) = try await store.issueKey(userID: owner.id, name: name ?? "cli", grant: grant)
            let access = grant == .fullAccess ? "full access" : key.grant.listed.joined(separator: " ")
            print("api_key_id: \(key.id) (\(owner.kind.rawValue) \(owner.name); \(access))")
            print(token.plaintext)
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke an API key by its id; it stops working at once.")
        @OptionGroup var db: DatabaseOption
        @Argument(help: "The key id (the middle part of SG.<id>.<secret>); put `--` before an id that begins with `-`.") var keyID: String

        func run() async throws {
            let store = try await db.open()
            guard try await store.revokeKey(id: keyID, userID: nil) else {
                printError("no live key with id \(keyID)")
                throw ExitCode(1)
            }
            print("revoked \(keyID)")
        }
    }
}
