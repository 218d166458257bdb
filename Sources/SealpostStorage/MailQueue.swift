import Foundation
import SealpostCore

/// The mail queue part of the store.
public protocol MailQueueStore: Sendable {
    /// Stores messages, one queued delivery per recipient, and the `processed` events, in one
    /// durable transaction: a 202 is answered only after this returns.
    func enqueue(_ messages: [NewMessage], events: [EventRecord], lifetime: TimeInterval) async throws
    /// Leases up to `limit` due deliveries (queued, due, lease expired) to this store's process
    /// for `lease` seconds. Several processes may claim from one database at once: each
    /// delivery goes to one of them.
    func claimDeliveries(now: Date, limit: Int, lease: TimeInterval) async throws -> [QueuedDelivery]
    /// Extends the leases this process still holds on unresolved deliveries (a heartbeat while
    /// they are in flight); returns how many it still held. A delivery whose result is already
    /// recorded (even a deferral, which keeps it queued) is left alone.
    func renewLeases(ids: [Int64], now: Date, lease: TimeInterval) async throws -> Int
    /// Applies delivery results, their events and list entries in one transaction. A result is
    /// applied only while this process holds the delivery's lease: one that expired and was
    /// taken over by another process is skipped, its event with it.
    func resolve(_ updates: [DeliveryUpdate]) async throws
    /// Events, oldest first (for inspection and tests).
    func events(userID: Int64?, limit: Int) async throws -> [EventRecord]
    func queueCounts() async throws -> [String: Int]
    /// When the earliest queued delivery that is not due yet at `now` becomes due (`nil`:
    /// none): the engine sleeps until then rather than a whole poll interval, so mail
    /// scheduled with `send_at` goes out on time. One step of the due-time index.
    func nextDueAfter(_ now: Date) async throws -> Date?
}
