import ArgumentParser
import SealpostCore
import SealpostStorage

func validateName(_ name: String, what: String) throws {
    if let problem = UserName.validationError(name) { throw ValidationError("\(what) \(problem)") }
}

/// Resolves `--parent NAME` to a parent account, with a clear error otherwise.
func parentAccount(_ store: any SealpostStore, named name: String) async throws -> User {
    guard let parent = try await store.user(named: name) else { throw ValidationError("no user named \(name)") }
    guard parent.kind == .account else { throw ValidationError("\(name) is a \(parent.kind.rawValue), not a parent account") }
    return parent
}

func creating<T>(_ body: () async throws -> T) async throws -> T {
    do {
        return try await body()
    } catch let error as StoreError {
        throw ValidationError(error.description)
    }
}

struct AccountsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accounts", abstract: "Manage parent accounts.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a parent account; prints its id.")
        @OptionGroup var db: DatabaseOption
        @Option(help: "Contact address of the account.") var email: String?
        @Argument(help: "Unique account name.") var name: String

        func run() async throws {
            try validateName(name, what: "account name")
            let store = try await db.open()
            let user = try await creating { try await store.createAccount(name: name, email: email) }
            print(user.id)
        }
    }
}

struct SubusersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "subusers", abstract: "Manage subusers.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a subuser of a parent account; prints its id.")
        @OptionGroup var db: DatabaseOption
        @Option(help: "Name of the parent account.") var parent: String
        @Option(help: "Contact address of the subuser.") var email: String?
        @Argument(help: "Unique username (what on-behalf-of names).") var username: String

        func run() async throws {
            try validateName(username, what: "username")
            let store = try await db.open()
            let parent = try await parentAccount(store, named: parent)
            let user = try await creating { try await store.createSubuser(parentID: parent.id, username: username, email: email) }
            print(user.id)
        }
    }
}

struct CustomersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "customers", abstract: "Manage customer accounts.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a customer account of a parent; prints its id (on-behalf-of: account-id <id>).")
        @OptionGroup var db: DatabaseOption
        @Option(help: "Name of the parent account.") var parent: String
        @Argument(help: "Unique customer account name.") var name: String

        func run() async throws {
            try validateName(name, what: "customer account name")
            let store = try await db.open()
            let parent = try await parentAccount(store, named: parent)
            let user = try await creating { try await store.createCustomer(parentID: parent.id, name: name) }
            print(user.id)
        }
    }
}
