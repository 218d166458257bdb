import ArgumentParser
import Foundation
import SealpostStorage

/// `--database PATH` [`SEALPOST_DATABASE`], shared by every command so the admin commands
/// work on the same file as the server, whether or not it runs.
struct DatabaseOption: ParsableArguments {
    @Option(name: .long, help: "SQLite database file (env SEALPOST_DATABASE; default ./sealpost.sqlite).")
    var database: String?

    var path: String { Environment.value(flag: database, env: "SEALPOST_DATABASE", default: "./sealpost.sqlite") }

    func open() throws -> any SealpostStore {
        do {
            return try SQLiteStore(path: path)
        } catch let error as StoreError {
            throw ValidationError("cannot open \(path): \(error)")
        }
    }
}

extension SealpostStore {
    /// `--user NAME` of the admin commands: the user's id, or a clear error.
    func userID(named name: String?) async throws -> Int64? {
        guard let name else { return nil }
        guard let user = try await user(named: name) else { throw ValidationError("no user named \(name)") }
        return user.id
    }
}

enum Environment {
    /// Command-line flag first, then the environment variable, then the default.
    static func value(flag: String?, env: String, default value: String) -> String {
        if let flag { return flag }
        if let fromEnv = ProcessInfo.processInfo.environment[env], !fromEnv.isEmpty { return fromEnv }
        return value
    }
}

/// Prints to standard error, keeping standard output for what scripts parse.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
