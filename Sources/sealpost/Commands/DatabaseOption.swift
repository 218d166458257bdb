import ArgumentParser
import Foundation
import Logging
import SealpostCore
import SealpostPostgres
import SealpostSMTP
import SealpostSQLite
import SealpostStorage

/// `--database` [`SEALPOST_DATABASE`], shared by every command so the admin commands work on
/// the same database as the server, whether or not it runs: a SQLite file path, or a
/// `postgres://` URL for several nodes on one PostgreSQL database.
struct DatabaseOption: ParsableArguments {
    @Option(
        name: .long, help: "SQLite database file, or postgres://USER:PASS@HOST:PORT/DB (env SEALPOST_DATABASE; default ./sealpost.sqlite).")
    var database: String?

    var path: String { Environment.value(flag: database, env: "SEALPOST_DATABASE", default: "./sealpost.sqlite") }

    /// The one place that picks a backend: by the URL's scheme. Everything after it talks to
    /// the store's roles and its `StoreLifecycle`.
    private var isPostgres: Bool { PostgresURL.isPostgres(path) }

    /// The database as given, with a PostgreSQL password hidden: for messages before it is open.
    var displayName: String { isPostgres ? PostgresURL.redacted(path) : path }

    /// Opens the store. SQLite applies its pending migrations itself (one embedded file, one
    /// server); PostgreSQL, shared by several nodes, is migrated only by `sealpost migrate`
    /// (or `migrate: true`), so a node never changes the schema under the others. `serving`
    /// (for `serve`) opens a SQLite file exclusively (its lock), before any migration.
    func open(migrate: Bool = false, serving: Bool = false) async throws -> any SealpostStore {
        do {
            if isPostgres {
                var logger = Logger(label: "sealpost.postgres")
                logger.logLevel = .warning
                return try await PostgresStore.open(url: path, logger: logger, migrate: migrate)
            }
            return try SQLiteStore(path: path, exclusive: serving)
        } catch StoreError.inUse(let why) {
            throw ValidationError(why)
        } catch let error as StoreError {
            throw ValidationError("cannot open \(displayName): \(error)")
        } catch let error as PostgresURLError {
            throw ValidationError("cannot open \(displayName): \(error)")
        } catch {
            throw ValidationError("cannot open \(displayName): \(String(reflecting: error))")
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
