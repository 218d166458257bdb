import Foundation
import Synchronization

/// Fixed-window request counting: N requests per minute per (caller, endpoint).
///
/// In memory on purpose: a limit that is exact per process is what SendGrid-compatible clients
/// need (they read the headers), and it costs no database round trip on the hot path.
public final class RateLimiter: Sendable {
    public struct Decision: Sendable, Equatable {
        public var allowed: Bool
        public var limit: Int
        public var remaining: Int
        /// Unix time at which the window restarts (SendGrid's `X-RateLimit-Reset`).
        public var reset: Int
    }

    private struct Window {
        var start: Int
        var count: Int
    }

    public let limit: Int
    public let windowSeconds: Int
    /// Unix seconds. Injectable because a fixed window restarts on the minute: a test that
    /// counts requests must not straddle that boundary by chance.
    private let clock: @Sendable () -> Int
    private let windows = Mutex<[String: Window]>([:])
    private static let pruneThreshold = 4096

    public init(
        limit: Int, windowSeconds: Int = 60, clock: @escaping @Sendable () -> Int = { Int(Date().timeIntervalSince1970) }
    ) {
        self.limit = limit
        self.windowSeconds = windowSeconds
        self.clock = clock
    }

    /// Counts one request against `bucket` at the limiter's clock.
    public func take(bucket: String) -> Decision { take(bucket: bucket, now: clock()) }

    public func take(bucket: String, now: Int) -> Decision {
        let start = now - now % windowSeconds
        return windows.withLock { windows in
            if windows.count > Self.pruneThreshold {
                windows = windows.filter { $0.value.start == start }
            }
            var window = windows[bucket] ?? Window(start: start, count: 0)
            if window.start != start { window = Window(start: start, count: 0) }
            let allowed = window.count < limit
            if allowed { window.count += 1 }
            windows[bucket] = window
            return Decision(allowed: allowed, limit: limit, remaining: max(0, limit - window.count), reset: start + windowSeconds)
        }
    }
}
