import Synchronization

/// Shared by the API and the delivery engine: set when SIGTERM starts the drain.
public final class ShutdownGate: Sendable {
    private let draining = Atomic<Bool>(false)

    public init() {}

    public var isDraining: Bool { draining.load(ordering: .relaxed) }
    public func startDraining() { draining.store(true, ordering: .relaxed) }
}
