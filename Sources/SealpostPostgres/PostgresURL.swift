import Foundation
import PostgresNIO
import SealpostCore

/// `postgres://USER:PASS@HOST:PORT/DB[?sslmode=disable|prefer|require]`, the form libpq and
/// every PostgreSQL tool accept, turned into a PostgresNIO client configuration.
public struct PostgresURL: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String?
    public var sslMode: String

    public static func isPostgres(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    public init(_ text: String) throws {
        guard Self.isPostgres(text), let url = URLComponents(string: text), let host = url.host, !host.isEmpty else {
            throw PostgresURLError("expected postgres://USER:PASS@HOST:PORT/DB, got \(Self.redacted(text))")
        }
        guard let user = url.user, !user.isEmpty else { throw PostgresURLError("the URL names no user: \(Self.redacted(text))") }
        self.host = host
        self.port = url.port ?? 5432
        self.username = user.removingPercentEncoding ?? user
        self.password = url.password.map { $0.removingPercentEncoding ?? $0 }
        let path = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        self.database = path.isEmpty ? nil : path
        self.sslMode = url.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        guard ["disable", "prefer", "require"].contains(sslMode) else {
            throw PostgresURLError("sslmode must be disable, prefer or require, got \(sslMode)")
        }
    }

    /// The URL with its password hidden, for logs and error messages.
    public static func redacted(_ text: String) -> String {
        guard var url = URLComponents(string: text), url.password != nil else { return text }
        url.password = "***"
        return url.string ?? "postgres://***"
    }

    public var clientConfiguration: PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS =
            switch sslMode {
            case "disable": .disable
            case "require": .require(.makeClientConfiguration())
            default: .prefer(.makeClientConfiguration())
            }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password,
            database: database, tls: tls)
        configuration.options.maximumConnections = 40
        return configuration
    }
}

public struct PostgresURLError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
