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
    /// The user's Event Webhook signing key (P-256, raw), or `nil` while signing is off.
    func webhookSigningKey(userID: Int64) async throws -> [UInt8]?
    /// Turns signing on: `candidate` becomes the key unless signing is on already, in which
    /// case the key in force stays (receivers hold its public half). Returns the key in force.
    func enableWebhookSigning(userID: Int64, candidate: [UInt8]) async throws -> [UInt8]
    /// Turns signing off and forgets the key (enabling again makes a new one).
    func disableWebhookSigning(userID: Int64) async throws
}
