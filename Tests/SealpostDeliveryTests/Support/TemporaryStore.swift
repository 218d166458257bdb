import Foundation

@testable import SealpostSQLite

/// A fresh SQLite store in its own temporary directory, removed when `body` returns.
func withTemporaryStore<T>(_ name: String, _ body: (SQLiteStore) async throws -> T) async throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sealpost-\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try await body(try SQLiteStore(path: directory.appendingPathComponent("s.sqlite").path))
}
