import Foundation
import SealpostCore

public protocol WebhookStore: Sendable {
    func webhookSettings(userID: Int64) async throws -> WebhookSettings
    /// Saves the settings. When the webhook is switched on, events that piled up while it was off
    /// are not sent (SendGrid posts only what happens while it is enabled).
    func saveWebhookSettings(userID: Int64, _ settings: WebhookSettings) async throws
    /// Up to `limit` unposted events for each user with an enabled webhook, reserved for the
    /// caller for `WebhookBatch.lease` seconds; events of types the user did not ask for are
    /// marked done and left out.
    func pendingWebhookBatches(limit: Int) async throws -> [WebhookBatch]
    /// Marks events as posted.
    func markPosted(eventIDs: [Int64]) async throws
    /// Gives reserved events back unposted (the receiver failed, or its user is backing off).
    func releaseWebhookEvents(eventIDs: [Int64]) async throws
}
