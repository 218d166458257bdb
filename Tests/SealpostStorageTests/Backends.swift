import Foundation
import Logging
import PostgresNIO
import Testing

@testable import SealpostCore
@testable import SealpostPostgres
@testable import SealpostSQLite
@testable import SealpostStorage

/// The backends every storage contract test runs against. PostgreSQL joins when
/// `SEALPOST_TEST_POSTGRES` names a server (scripts/test starts one); under `CI` its absence
/// is an error rather than a silent skip.
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite
    case postgres

    var testDescription: String { rawValue }

    static var postgresURL: String? {
        let url = ProcessInfo.processInfo.environment["SEALPOST_TEST_POSTGRES"]
        return (url?.isEmpty ?? true) ? nil : url
    }

    static var available: [Backend] {
        if postgresURL != nil { return allCases }
        if ProcessInfo.processInfo.environment["CI"] != nil {
            // Makes the parameterized tests fail loudly instead of covering one backend.
            return allCases
        }
        return [.sqlite]
    }
}

/// A fresh, empty database of one backend; `open()` can be called again for a second
/// process-like store on the same database (two nodes).
final class TestDatabase: Sendable {
    let backend: Backend
    let location: String
    private let cleanup: @Sendable () async -> Void

    private init(backend: Backend, location: String, cleanup: @escaping @Sendable () async -> Void) {
        self.backend = backend
        self.location = location
        self.cleanup = cleanup
    }

    static func make(_ backend: Backend) async throws -> TestDatabase {
        switch backend {
        case .sqlite:
            let db = try TempDatabase()
            return TestDatabase(backend: backend, location: db.path) { db.remove() }
        case .postgres:
            guard let base = Backend.postgresURL else {
                throw PostgresURLError("SEALPOST_TEST_POSTGRES is not set; scripts/test starts a server (tests/peers/pg.sh)")
            }
            let name = "sealpost_test_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(16))"
            try await admin(base) { c in try await c.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)")) }
            let url = try replacingDatabase(base, with: name)
            return TestDatabase(backend: backend, location: url) {
                try? await admin(base) { c in try await c.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")) }
            }
        }
    }

    /// Opens a store on this database (migrating it, as `sealpost migrate` would).
    func open() async throws -> any SealpostStore {
        switch backend {
        case .sqlite: return try SQLiteStore(path: location)
        case .postgres: return try await PostgresStore.open(url: location, logger: Self.logger, migrate: true)
        }
    }

    func remove() async { await cleanup() }

    static let logger: Logger = {
        var logger = Logger(label: "test.postgres")
        logger.logLevel = .error
        return logger
    }()

    private static func admin(_ url: String, _ body: (PostgresClient) async throws -> Void) async throws {
        let client = PostgresClient(configuration: try PostgresURL(url).clientConfiguration, backgroundLogger: logger)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            try await body(client)
            group.cancelAll()
        }
    }

    private static func replacingDatabase(_ url: String, with name: String) throws -> String {
        guard var components = URLComponents(string: url) else { throw PostgresURLError("bad URL") }
        components.path = "/" + name
        return components.string ?? url
    }
}

/// Runs `body` with a fresh, empty database of `backend`, dropping it afterwards.
func withDatabase(_ backend: Backend, _ body: (TestDatabase) async throws -> Void) async throws {
    let db = try await TestDatabase.make(backend)
    do {
        try await body(db)
    } catch {
        await db.remove()
        throw error
    }
    await db.remove()
}

/// Runs `body` with a store on a fresh database of `backend`, closing and dropping it afterwards.
func withStore(_ backend: Backend, _ body: (any SealpostStore, TestDatabase) async throws -> Void) async throws {
    try await withDatabase(backend) { db in
        let store = try await db.open()
        defer { store.close() }
        try await body(store, db)
    }
}
