import Logging
import SealpostCore
import SealpostSMTP
import ServiceLifecycle

/// The first service to hear SIGTERM (it is listed last). It closes intake — the API answers 503
/// from then on — and lets the SMTP sessions in flight finish, up to `grace`; only then do the
/// engine and the HTTP server stop. What did not finish stays queued and resumes after restart.
public struct DrainService: Service {
    let gate: ShutdownGate
    let engine: DeliveryEngine
    let grace: Duration
    let logger: Logger

    public init(gate: ShutdownGate, engine: DeliveryEngine, grace: Duration, logger: Logger) {
        self.gate = gate
        self.engine = engine
        self.grace = grace
        self.logger = logger
    }

    public func run() async throws {
        try? await gracefulShutdown()
        gate.startDraining()
        logger.info("shutting down: intake closed, waiting for SMTP sessions in flight", metadata: ["grace": "\(grace)"])
        let finished = await engine.waitUntilIdle(timeout: grace)
        logger.info("shutting down: sessions \(finished ? "finished" : "still running after the grace period; they stay queued")")
    }
}
