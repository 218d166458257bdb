import ArgumentParser
import Foundation
import Hummingbird
import Logging
import Metrics
import NIOCore
import Prometheus
import SealpostAPI
import SealpostCore
import SealpostDelivery
import SealpostSMTP
import SealpostSQLite
import SealpostStorage
import SealpostSubmission
import ServiceLifecycle

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the Sealpost API server.")

    @Option(help: "Listen address HOST:PORT (env SEALPOST_HTTP; default 127.0.0.1:8080). Port 0 picks a free port.")
    var http: String?
    @OptionGroup var db: DatabaseOption
    @OptionGroup var smtpSubmission: SubmissionOptions
    @OptionGroup var delivery: DeliveryOptions
    @OptionGroup var tlsReports: TLSReportOptions
    @Option(help: "Requests per minute per API key per endpoint (env SEALPOST_RATE_LIMIT; default 600).")
    var rateLimit: Int?
    @Option(help: "Seconds a message may stay queued before it bounces (env SEALPOST_QUEUE_LIFETIME; default 259200 = 72 h).")
    var queueLifetime: Double?
    @Option(help: "First retry delay in seconds, doubled per attempt up to an hour (env SEALPOST_RETRY_BASE; default 60).")
    var retryBase: Double?
    @Option(help: "PEM certificate chain: serve the API over HTTPS, TLS 1.2+ (env SEALPOST_TLS_CERT; needs --tls-key).")
    var tlsCert: String?
    @Option(help: "PEM private key of --tls-cert (env SEALPOST_TLS_KEY).")
    var tlsKey: String?
    @Option(help: "Seconds SIGTERM waits for SMTP sessions in flight before stopping (env SEALPOST_SHUTDOWN_GRACE; default 30).")
    var shutdownGrace: Double?
    @Option(
        help:
            "Seconds a claimed delivery stays leased without a heartbeat; on a shared PostgreSQL database, how soon other nodes take over a dead node's work (env SEALPOST_LEASE; default 60)."
    )
    var lease: Double?
    @Option(help: "API connections served at once; a request on one more gets 503 (env SEALPOST_MAX_CONNECTIONS; default 1024).")
    var maxConnections: Int?
    @Option(
        help:
            "Seconds an SMTP connection stays open after a session for the next session to the same host (no new connect, EHLO or TLS handshake; each session judges it under its own TLS policy first); 0 turns reuse off (env SEALPOST_CONNECTION_CACHE_TIME; default 2)."
    )
    var connectionCacheTime: Double?
    @Option(help: "Pre-flight TLS checks per minute per API key (env SEALPOST_CHECK_RATE_LIMIT; default 10).")
    var checkRateLimit: Int?
    @Flag(
        help:
            "Refuse mail whose From is not a validated authenticated domain of the sender (env SEALPOST_REQUIRE_AUTHENTICATED_DOMAINS=on|off; default off)."
    )
    var requireAuthenticatedDomains = false

    func run() async throws {
        let (host, port) = try Self.parseListen(Environment.value(flag: http, env: "SEALPOST_HTTP", default: "127.0.0.1:8080"))
        let limitText = Environment.value(flag: rateLimit.map(String.init), env: "SEALPOST_RATE_LIMIT", default: "600")
        guard let limit = Int(limitText), limit > 0 else {
            throw ValidationError("rate limit must be a positive integer, got \(limitText)")
        }

        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardOutput(label: label)
            handler.logLevel = Logger.Level(rawValue: ProcessInfo.processInfo.environment["SEALPOST_LOG_LEVEL"] ?? "info") ?? .info
            return handler
        }
        let logger = Logger(label: "sealpost")
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))

        // One server per SQLite file (its lock) may take over the leases of a predecessor that
        // was killed at once; on PostgreSQL several nodes share the queue, so a dead node's
        // leases expire instead (`--lease`). The store knows which (`StoreLifecycle`).
        let store = try await db.open(serving: true)
        defer { store.close() }
        let released = try await store.beginServing()
        logger.info("database ready", metadata: ["database": "\(store.displayName)", "leases_recovered": "\(released)"])
        let gate = ShutdownGate()
        let (engine, stack) = try makeEngine(store: store, logger: logger, gate: gate)
        let grace = try Self.seconds(shutdownGrace, env: "SEALPOST_SHUTDOWN_GRACE", default: 30, name: "shutdown grace")
        let helo = delivery.helo
        let lifetime = try Self.seconds(queueLifetime, env: "SEALPOST_QUEUE_LIFETIME", default: 72 * 3600, name: "queue lifetime")
        let certPath = Environment.value(flag: tlsCert, env: "SEALPOST_TLS_CERT", default: "")
        let keyPath = Environment.value(flag: tlsKey, env: "SEALPOST_TLS_KEY", default: "")
        guard certPath.isEmpty == keyPath.isEmpty else { throw ValidationError("--tls-cert and --tls-key go together") }
        let https = !certPath.isEmpty
        var apiConfiguration = APIConfiguration(
            host: host, port: port, rateLimit: limit,
            tlsCertificate: https ? certPath : nil, tlsKey: https ? keyPath : nil)
        let connectionsText = Environment.value(flag: maxConnections.map(String.init), env: "SEALPOST_MAX_CONNECTIONS", default: "1024")
        guard let connections = Int(connectionsText), connections > 0 else {
            throw ValidationError("max connections must be a positive integer, got \(connectionsText)")
        }
        apiConfiguration.maxConnections = connections
        do {
            _ = try apiConfiguration.serverBuilder()
        } catch {
            throw ValidationError("cannot set up HTTPS with \(certPath) and \(keyPath): \(error)")
        }
        let submission = try smtpSubmission.configuration(
            helo: helo, apiCertificate: https ? certPath : nil, apiKey: https ? keyPath : nil)
        let limiter = RateLimiter(limit: limit)
        let requireDomains = try requireAuthenticatedDomainsRequested()
        var intakeConfiguration = IntakeConfiguration(heloName: helo, lifetime: lifetime, gate: gate, onQueued: { engine.wake() })
        intakeConfiguration.requireAuthenticatedDomains = requireDomains
        let app = try buildApplication(
            store: store,
            configuration: apiConfiguration,
            logger: logger,
            registry: registry,
            intake: intakeConfiguration,
            limiter: limiter,
            txt: engine.dns,
            checker: stack.checker(logger: logger),
            checkLimiter: RateLimiter(limit: try checkRateLimitValue()),
            judge: ImpactJudge(),
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                logger.info("listening", metadata: ["address": "\(https ? "https" : "http")://\(host):\(bound)"])
            })
        if !https && !SubmissionServerConfiguration.isLoopback(host) {
            logger.warning(
                "serving the API over plain HTTP on a non-loopback address: API keys cross the network in clear",
                metadata: ["host": "\(host)"])
        }
        var doors: [any Service] = [app]
        if let submission {
            var intake = SubmissionIntake(
                store: store, limiter: limiter, heloName: helo, lifetime: lifetime, gate: gate, logger: logger,
                onQueued: { engine.wake() })
            intake.requireAuthenticatedDomains = requireDomains
            doors.append(SubmissionService(configuration: submission, backend: intake, logger: logger))
        }
        var reporting: [any Service] = []
        if try tlsReports.enabled() {
            let roots = Environment.value(flag: delivery.trustRoots, env: "SEALPOST_TRUST_ROOTS", default: "")
            let reporter = TLSReporter(
                store: store, dns: engine.dns,
                configuration: try tlsReports.configuration(helo: helo, trustRoots: roots.isEmpty ? nil : roots),
                logger: logger, queued: { engine.wake() })
            reporting.append(TLSReportService(reporter: reporter, logger: logger))
        } else {
            logger.info("TLS reporting is off", metadata: ["reason": "--tlsrpt off"])
        }
        let poster = WebhookPoster(store: store, logger: logger)
        engine.whenResultsStored { poster.wake() }
        // One service group for everything the process runs, stopped together on SIGTERM/SIGINT.
        let services = ServiceGroup(
            configuration: .init(
                services: doors + [
                    engine, poster,
                ] + reporting + [
                    // Listed last, so it hears SIGTERM first: intake closes before anything stops.
                    DrainService(gate: gate, engine: engine, grace: .milliseconds(Int64(grace * 1000)), logger: logger)
                ], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await services.run()
    }

    func makeEngine(store: any SealpostStore, logger: Logger, gate: ShutdownGate) throws -> (DeliveryEngine, DeliveryStack) {
        let stack = try delivery.build(store: store, logger: logger)
        var configuration = DeliveryConfiguration()
        configuration.lifetime = try Self.seconds(
            queueLifetime, env: "SEALPOST_QUEUE_LIFETIME", default: configuration.lifetime, name: "queue lifetime")
        configuration.retryBase = try Self.seconds(
            retryBase, env: "SEALPOST_RETRY_BASE", default: configuration.retryBase, name: "retry base")
        configuration.lease = try Self.seconds(lease, env: "SEALPOST_LEASE", default: configuration.lease, name: "lease")
        var client = stack.client
        let keep = try connectionCacheSeconds()
        if keep > 0 { client.connections = SMTPConnectionCache(idle: .milliseconds(Int64((keep * 1000).rounded()))) }
        let engine = DeliveryEngine(
            store: store, client: client, resolver: stack.resolver, configuration: configuration, logger: logger, gate: gate,
            recipientPolicies: stack.policies, observationStore: store, reportStore: try tlsReports.enabled() ? store : nil)
        return (engine, stack)
    }

    /// `--connection-cache-time`: 0 (no reuse) up to an hour.
    func connectionCacheSeconds() throws -> Double {
        let text = Environment.value(
            flag: connectionCacheTime.map { String($0) }, env: "SEALPOST_CONNECTION_CACHE_TIME", default: "2")
        guard let n = Double(text), n >= 0, n <= 3600 else {
            throw ValidationError("connection cache time must be a number of seconds from 0 to 3600, got \(text)")
        }
        return n
    }

    func checkRateLimitValue() throws -> Int {
        let text = Environment.value(flag: checkRateLimit.map(String.init), env: "SEALPOST_CHECK_RATE_LIMIT", default: "10")
        guard let n = Int(text), n > 0 else { throw ValidationError("check rate limit must be a positive integer, got \(text)") }
        return n
    }

    /// The flag, or its environment variable (on/off, true/false, 1/0).
    func requireAuthenticatedDomainsRequested() throws -> Bool {
        if requireAuthenticatedDomains { return true }
        let text = ProcessInfo.processInfo.environment["SEALPOST_REQUIRE_AUTHENTICATED_DOMAINS"] ?? "off"
        switch text.lowercased() {
        case "on", "true", "1": return true
        case "off", "false", "0", "": return false
        default: throw ValidationError("SEALPOST_REQUIRE_AUTHENTICATED_DOMAINS must be on or off, got \(text)")
        }
    }

    static func seconds(_ flag: Double?, env: String, default value: Double, name: String) throws -> Double {
        let text = Environment.value(flag: flag.map { String($0) }, env: env, default: String(value))
        guard let n = Double(text), n > 0 else { throw ValidationError("\(name) must be a positive number of seconds, got \(text)") }
        return n
    }

    /// `HOST:PORT`, `[v6]:PORT` or `:PORT`.
    static func parseListen(_ text: String, flag: String = "--http") throws -> (String, Int) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("\(flag) must be HOST:PORT, got \(text)")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "127.0.0.1" : host, port)
    }
}
