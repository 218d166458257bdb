import NIOCore
import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import SealpostAPI
import SealpostStorage
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the Sealpost API server.")

    @Option(help: "Listen address HOST:PORT (env SEALPOST_HTTP; default 127.0.0.1:8080). Port 0 picks a free port.")
    var http: String?
    @OptionGroup var db: DatabaseOption
    @Option(help: "Requests per minute per API key per endpoint (env SEALPOST_RATE_LIMIT; default 600).")
    var rateLimit: Int?

    func run() async throws {
        let (host, port) = try Self.parseListen(Environment.value(flag: http, env: "SEALPOST_HTTP", default: "127.0.0.1:8080"))
        let limitText = Environment.value(flag: rateLimit.map(String.init), env: "SEALPOST_RATE_LIMIT", default: "600")
        guard let limit = Int(limitText), limit > 0 else { throw ValidationError("rate limit must be a positive integer, got \(limitText)") }

        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardOutput(label: label)
            handler.logLevel = Logger.Level(rawValue: ProcessInfo.processInfo.environment["SEALPOST_LOG_LEVEL"] ?? "info") ?? .info
            return handler
        }
        let logger = Logger(label: "sealpost")
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

        let store = try db.open()
        logger.info("database ready", metadata: ["path": "\(db.path)"])
        let app = buildApplication(
            store: store,
            configuration: APIConfiguration(host: host, port: port, rateLimit: limit),
            logger: logger,
            registry: registry,
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                logger.info("listening", metadata: ["address": "http://\(host):\(bound)"])
            })
        if !Self.isLoopback(host) {
            logger.warning("serving the API over plain HTTP on a non-loopback address: API keys cross the network in clear", metadata: ["host": "\(host)"])
        }
        // One service group for everything the process runs, stopped together on SIGTERM/SIGINT.
        let services = ServiceGroup(configuration: .init(services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await services.run()
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }

    /// `HOST:PORT`, `[v6]:PORT` or `:PORT`.
    static func parseListen(_ text: String) throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("--http must be HOST:PORT, got \(text)")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "127.0.0.1" : host, port)
    }
}
