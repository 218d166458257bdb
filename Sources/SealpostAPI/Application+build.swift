import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL
import Prometheus
import SealpostCore
import SealpostStorage

/// What `sealpost serve` needs to build the API; kept apart from the CLI so tests build the
/// same application in-process.
public struct APIConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Requests per minute per key per endpoint.
    public var rateLimit: Int
    /// Connections served at once; the first request on one more gets a 503 (SendGrid shape,
    /// `Retry-After`) and is closed. Beyond `maxConnections + acceptSlack`, Hummingbird stops
    /// accepting and new clients wait in the listen backlog.
    public var maxConnections: Int = 1024
    static let acceptSlack = 256
    public var serverName: String?
    /// PEM certificate chain and key: serve HTTPS (TLS 1.2+) instead of plain HTTP.
    public var tlsCertificate: String?
    public var tlsKey: String?

    public init(
        host: String = "127.0.0.1", port: Int = 8080, rateLimit: Int = 600, serverName: String? = "sealpost",
        tlsCertificate: String? = nil, tlsKey: String? = nil
    ) {
        self.host = host
        self.port = port
        self.rateLimit = rateLimit
        self.serverName = serverName
        self.tlsCertificate = tlsCertificate
        self.tlsKey = tlsKey
    }

    /// Bounds on what one client can make the server hold: header sizes and idle connections;
    /// parser errors and the connection limit answered in SendGrid's error shape.
    func http1() -> HTTP1Channel.Configuration {
        let counter = ConnectionLimitHandler.Counter(limit: maxConnections)
        return HTTP1Channel.Configuration(
            additionalChannelHandlers: [ParserErrorHandler(), ConnectionLimitHandler(counter: counter)],
            idleTimeout: .seconds(120),
            httpDecoderConfiguration: .init(maxHeaderFieldSize: 16 * 1024, maxHeaderListSize: 32 * 1024, maxHeaderFieldCount: 100))
    }

    /// The HTTP/1.1 server, wrapped in TLS 1.2+ when a certificate and key are configured.
    public func serverBuilder() throws -> HTTPServerBuilder {
        let http1 = http1()
        guard let tlsCertificate, let tlsKey else { return .http1(configuration: http1) }
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(tlsCertificate).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: tlsKey, format: .pem)))
        tls.minimumTLSVersion = .tlsv12
        return try .tls(.http1(configuration: http1), tlsConfiguration: tls)
    }
}

/// The router: every route, grouped by resource, behind the shared middleware.
public func buildRouter(
    store: any SealpostStore,
    rateLimit: Int,
    registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
    intake: IntakeConfiguration = IntakeConfiguration(),
    limiter: RateLimiter? = nil,
    txt: any TXTResolving = NoTXTResolver(),
    checker: any TLSChecking = NoTLSChecker(),
    checkLimiter: RateLimiter = RateLimiter(limit: 10),
    judge: any TLSImpactJudging = NoImpactJudge()
) -> Router<SealpostRequestContext> {
    let router = Router(context: SealpostRequestContext.self)
    let known = KnownPaths()
    router.add(middleware: RequestLogMiddleware())
    router.add(middleware: MetricsMiddleware())
    router.add(middleware: ErrorMiddleware())
    router.add(middleware: DrainMiddleware(gate: intake.gate))
    SystemRoutes(registry: registry).register(on: router, known: known)
    ConsoleRoutes().register(on: router, known: known)

    // Everything below authenticates and counts against the caller's rate limit.
    router.add(middleware: AuthMiddleware(store: store))
    // One limiter per process, shared with SMTP submission (`limiter`), so a key's mail-send
    // limit counts messages through both doors.
    router.add(middleware: RateLimitMiddleware(limiter: limiter ?? RateLimiter(limit: rateLimit)))
    let tenants = TenantResolver(store: store)
    EnforcedTLSRoutes(store: store, tenants: tenants).register(on: router, known: known)
    DomainTLSRoutes(store: store, tenants: tenants).register(on: router, known: known)
    TLSCheckRoutes(store: store, tenants: tenants, checker: checker, limiter: checkLimiter, judge: judge).register(
        on: router, known: known)
    APIKeyRoutes(store: store, tenants: tenants).register(on: router, known: known)
    ScopeRoutes().register(on: router, known: known)
    SubuserRoutes(store: store).register(on: router, known: known)
    MailSendRoutes(store: store, intake: intake).register(on: router, known: known)
    SuppressionRoutes(store: store, tenants: tenants).register(on: router, known: known)
    DomainAuthenticationRoutes(store: store, tenants: tenants, txt: txt).register(on: router, known: known)
    WebhookRoutes(store: store, tenants: tenants).register(on: router, known: known)
    StatsRoutes(store: store, tenants: tenants).register(on: router, known: known)
    AuditRoutes(store: store, tenants: tenants).register(on: router, known: known)
    router.add(middleware: MethodNotAllowedMiddleware(known: known))
    return router
}

public func buildApplication(
    store: any SealpostStore,
    configuration: APIConfiguration,
    logger: Logger,
    registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
    intake: IntakeConfiguration = IntakeConfiguration(),
    limiter: RateLimiter? = nil,
    txt: any TXTResolving = NoTXTResolver(),
    checker: any TLSChecking = NoTLSChecker(),
    checkLimiter: RateLimiter = RateLimiter(limit: 10),
    judge: any TLSImpactJudging = NoImpactJudge(),
    onServerRunning: (@Sendable (any Channel) async -> Void)? = nil
) throws -> some ApplicationProtocol {
    let router = buildRouter(
        store: store, rateLimit: configuration.rateLimit, registry: registry, intake: intake, limiter: limiter, txt: txt,
        checker: checker, checkLimiter: checkLimiter, judge: judge)
    return Application(
        router: router,
        server: try configuration.serverBuilder(),
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port), serverName: configuration.serverName,
            availableConnectionsDelegate: .maximum(configuration.maxConnections + APIConfiguration.acceptSlack, logger: logger)),
        onServerRunning: onServerRunning ?? { _ in },
        logger: logger
    )
}
