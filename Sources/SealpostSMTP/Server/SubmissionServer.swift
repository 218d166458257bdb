import Logging
import NIOCore
import NIOPosix
import NIOSSL

/// One SMTP submission listener (RFC 6409 on `--submission`, STARTTLS; RFC 8314 implicit TLS
/// on `--submissions`), each connection a `SubmissionSession`.
public struct SubmissionListener: Sendable {
    public enum Security: Sendable, Equatable {
        /// Plain TCP with STARTTLS offered when a certificate is configured.
        case startTLS
        /// TLS from the first byte.
        case implicitTLS
    }

    public var host: String
    public var port: Int
    public var security: Security

    public init(host: String, port: Int, security: Security) {
        self.host = host
        self.port = port
        self.security = security
    }
}

public struct SubmissionServerConfiguration: Sendable {
    public var hostname: String
    public var listeners: [SubmissionListener]
    /// PEM files; without them only a loopback STARTTLS listener may run (AUTH in plaintext).
    public var certificatePath: String?
    public var keyPath: String?
    public var maxConnections: Int = 256
    public var maxMessageSize: Int = 31_457_280
    public var maxRecipients: Int = 1000
    public var timeouts = SubmissionTimeouts()
    public var normalizeAddress: @Sendable (String) -> String?

    public init(
        hostname: String, listeners: [SubmissionListener], certificatePath: String?, keyPath: String?,
        normalizeAddress: @escaping @Sendable (String) -> String?
    ) {
        self.hostname = hostname
        self.listeners = listeners
        self.certificatePath = certificatePath
        self.keyPath = keyPath
        self.normalizeAddress = normalizeAddress
    }

    public enum ConfigurationError: Error, CustomStringConvertible {
        case needsCertificate(SubmissionListener)

        public var description: String {
            switch self {
            case .needsCertificate(let l):
                l.security == .implicitTLS
                    ? "--submissions \(l.host):\(l.port) needs a certificate: give --smtp-tls-cert and --smtp-tls-key (or --tls-cert and --tls-key)"
                    : "--submission \(l.host):\(l.port) listens beyond loopback without a certificate, so API keys would cross the network in clear: give --smtp-tls-cert and --smtp-tls-key (or --tls-cert and --tls-key), or listen on 127.0.0.1"
            }
        }
    }

    /// The TLS context, or an error naming the listener that cannot run without one.
    public func tlsContext() throws -> NIOSSLContext? {
        guard let certificatePath, let keyPath else {
            if let bad = listeners.first(where: { $0.security == .implicitTLS || !Self.isLoopback($0.host) }) {
                throw ConfigurationError.needsCertificate(bad)
            }
            return nil
        }
        var tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(certificatePath).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: keyPath, format: .pem)))
        tls.minimumTLSVersion = .tlsv12
        return try NIOSSLContext(configuration: tls)
    }

    public static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}

/// Binds every configured listener; `close()` stops accepting.
public final class SubmissionServer: Sendable {
    public let channels: [any Channel]

    private init(channels: [any Channel]) { self.channels = channels }

    public static func start(
        _ configuration: SubmissionServerConfiguration, backend: any SubmissionBackend, group: any EventLoopGroup, logger: Logger
    ) async throws -> SubmissionServer {
        let tlsContext = try configuration.tlsContext()
        let counter = SubmissionConnectionCounter(limit: configuration.maxConnections)
        var channels: [any Channel] = []
        for listener in configuration.listeners {
            var machineConfiguration = SMTPServerStateMachine.Configuration(
                hostname: configuration.hostname,
                startTLSAvailable: listener.security == .startTLS && tlsContext != nil,
                plaintextAuthAllowed: tlsContext == nil && SubmissionServerConfiguration.isLoopback(listener.host),
                normalizeAddress: configuration.normalizeAddress)
            machineConfiguration.maxMessageSize = configuration.maxMessageSize
            machineConfiguration.maxRecipients = configuration.maxRecipients
            let machine = machineConfiguration
            let implicit = listener.security == .implicitTLS
            let timeouts = configuration.timeouts
            let bootstrap = ServerBootstrap(group: group)
                .serverChannelOption(ChannelOptions.backlog, value: 256)
                .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(ChannelOptions.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if implicit, let tlsContext {
                            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tlsContext))
                        }
                        try channel.pipeline.syncOperations.addHandler(
                            SubmissionSession(
                                configuration: machine, implicitTLS: implicit, tlsContext: tlsContext, backend: backend,
                                timeouts: timeouts, counter: counter, logger: logger))
                    }
                }
            let channel = try await bootstrap.bind(host: listener.host, port: listener.port).get()
            logger.info(
                "submission listening",
                metadata: [
                    "address": "\(listener.host):\(channel.localAddress?.port ?? listener.port)",
                    "security": "\(implicit ? "implicit TLS" : (tlsContext == nil ? "plaintext (loopback only)" : "STARTTLS"))",
                ])
            channels.append(channel)
        }
        return SubmissionServer(channels: channels)
    }

    public func close() async {
        for channel in channels { try? await channel.close() }
    }
}
