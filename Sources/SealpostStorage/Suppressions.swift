import Foundation
import SealpostCore

/// SendGrid's suppression lists of each user (subusers have their own): blocks, bounces,
/// invalid emails, global unsubscribes. Addresses are kept lowercased.
public protocol SuppressionStore: Sendable {
    /// A list's entries, newest first, filtered and paged as SendGrid's list routes are.
    func suppressions(userID: Int64, list: SuppressionList, query: BlockQuery) async throws -> [BlockRecord]
    /// Removes `emails` (`nil`: every entry) from the list; returns how many went.
    func deleteSuppressions(userID: Int64, list: SuppressionList, emails: [String]?) async throws -> Int
    /// Adds entries (an address already listed keeps its first `created`).
    func addSuppressions(userID: Int64, list: SuppressionList, _ records: [BlockRecord]) async throws
    /// The suppressing lists (never blocks) each of `emails` is on, keyed by the lowercased address;
    /// addresses on none are absent.
    func suppressingLists(userID: Int64, emails: [String]) async throws -> [String: Set<SuppressionList>]
}

extension SuppressionStore {
    public func blocks(userID: Int64, query: BlockQuery) async throws -> [BlockRecord] {
        try await suppressions(userID: userID, list: .blocks, query: query)
    }

    public func deleteBlock(userID: Int64, email: String) async throws -> Bool {
        try await deleteSuppressions(userID: userID, list: .blocks, emails: [email]) > 0
    }
}

/// Intake's check of the lists, shared by `POST /v3/mail/send` and SMTP submission: a
/// recipient on a list the send does not bypass is not queued and gets a `dropped` event
/// (SendGrid's reasons); the message goes out to the others. Every kept recipient gets its
/// `processed` event.
public enum SuppressionFilter {
    public static func apply(
        _ messages: [NewMessage], bypass: SuppressionBypass, store: any SuppressionStore, now: Date
    ) async throws -> (queued: [NewMessage], events: [EventRecord]) {
        var lists: [String: Set<SuppressionList>] = [:]
        if SuppressionList.suppressing.contains(where: bypass.checks), let userID = messages.first?.userID {
            let all = Array(Set(messages.flatMap(\.recipients)))
            // One read per user; every message of one request belongs to one user.
            lists = try await store.suppressingLists(userID: userID, emails: all)
        }
        var queued: [NewMessage] = []
        var events: [EventRecord] = []
        for var message in messages {
            var kept: [String] = []
            for recipient in message.recipients {
                if let reason = bypass.dropReason(lists[recipient.lowercased()] ?? []) {
                    events.append(
                        EventFactory.make(
                            "dropped", EventFactory.Subject(message, recipient: recipient),
                            fields: EventFields(reason: reason, status: "5.0.0"), now: now))
                } else {
                    kept.append(recipient)
                    events.append(EventFactory.make("processed", EventFactory.Subject(message, recipient: recipient), now: now))
                }
            }
            message.recipients = kept
            if !kept.isEmpty { queued.append(message) }
        }
        return (queued, events)
    }
}
