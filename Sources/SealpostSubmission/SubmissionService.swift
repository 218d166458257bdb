import Logging
import NIOCore
import NIOPosix
import SealpostSMTP
import ServiceLifecycle

/// The submission listeners as a service of `sealpost serve`: bound when the group starts,
/// closed (no new connections) on graceful shutdown; sessions in flight finish on their own,
/// and intake refuses new messages once the shutdown gate is closed.
public struct SubmissionService: Service {
    public let configuration: SubmissionServerConfiguration
    public let backend: any SubmissionBackend
    public let logger: Logger
    public let onListening: @Sendable ([Int]) -> Void

    public init(
        configuration: SubmissionServerConfiguration, backend: any SubmissionBackend, logger: Logger,
        onListening: @escaping @Sendable ([Int]) -> Void = { _ in }
    ) {
        self.configuration = configuration
        self.backend = backend
        self.logger = logger
        self.onListening = onListening
    }

    public func run() async throws {
        let server = try await SubmissionServer.start(
            configuration, backend: backend, group: MultiThreadedEventLoopGroup.singleton, logger: logger)
        onListening(server.channels.compactMap { $0.localAddress?.port })
        await withGracefulShutdownHandler {
            try? await gracefulShutdown()
        } onGracefulShutdown: {
            logger.info("submission: closing listeners")
        }
        await server.close()
    }
}
