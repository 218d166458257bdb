import SealpostCore

/// What delivery sessions found, per user, recipient domain and day (the impact report's data).
public protocol TLSObservationStore: Sendable {
    /// Adds to the day's counts (a new finding gets its row) and drops days older than the
    /// retention (`TLSObservation.retentionDays`).
    func recordTLSObservations(_ observations: [TLSObservation]) async throws
    /// The user's findings (every user's for `nil`) since `day` (inclusive).
    func tlsObservations(userID: Int64?, sinceDay day: Int) async throws -> [TLSObservation]
}
