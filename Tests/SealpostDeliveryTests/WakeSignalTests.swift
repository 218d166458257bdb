import Synchronization
import Testing

@testable import SealpostCore
@testable import SealpostDelivery
@testable import SealpostSMTP

/// The idle scheduler's wake-up must keep working after any number of waits, timed out or
/// woken: an AsyncStream-based version finished for good after the first timeout, and the
/// scheduler then polled the database in a tight loop.
@Suite struct WakeSignalTests {
    @Test func waitsUntilSignalledEveryTime() async throws {
        let signal = WakeSignal()
        for round in 0..<5 {
            // A wait that times out (the case that used to break the stream).
            await signal.wait(timeout: .milliseconds(20))
            let woken = Mutex(false)
            let waiter = Task {
                await signal.wait(timeout: .seconds(30))
                woken.withLock { $0 = true }
            }
            try await Task.sleep(for: .milliseconds(150))
            #expect(woken.withLock { $0 } == false, "round \(round): the wait returned without a signal")
            signal.signal()
            await waiter.value
            #expect(woken.withLock { $0 }, "round \(round)")
        }
    }

    @Test func aSignalWhileNobodyWaitsIsKeptForTheNextWait() async {
        let signal = WakeSignal()
        signal.signal()
        let start = ContinuousClock.now
        await signal.wait(timeout: .seconds(30))
        #expect(ContinuousClock.now - start < .seconds(10))
    }
}
