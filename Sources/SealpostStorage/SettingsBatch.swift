import Foundation
import SealpostCore

/// One PATCH of a user's Enforced TLS setting, as both backends group-commit it.
public struct SettingsChange: Sendable {
    public var userID: Int64
    public var patch: EnforcedTLSPatch
    public var actor: AuditActor

    public init(userID: Int64, patch: EnforcedTLSPatch, actor: AuditActor) {
        self.userID = userID
        self.patch = patch
        self.actor = actor
    }
}

/// A batch of concurrent PATCHes folded in arrival order, the same on every backend: each change
/// applies to the result of the ones before it for the same user. The backend reads the
/// current rows of `userIDs` (locked, on PostgreSQL), calls `fold`, then writes `final` and
/// one audit row per entry of `applied`, in the same transaction.
public struct SettingsBatch: Sendable {
    public typealias Outcome = Result<(old: EnforcedTLSSettings, new: EnforcedTLSSettings), any Error>

    /// One answer per change, in order (unknown users fail alone).
    public var results: [Outcome] = []
    /// The settings to store, per user touched.
    public var final: [Int64: EnforcedTLSSettings] = [:]
    /// What the audit trail records, in order.
    public var applied: [(change: SettingsChange, old: EnforcedTLSSettings, new: EnforcedTLSSettings)] = []

    /// The users to read, in user-id order (so that nodes lock rows in one order: no deadlocks).
    public static func userIDs(_ changes: [SettingsChange]) -> [Int64] { Set(changes.map(\.userID)).sorted() }

    public static func fold(_ changes: [SettingsChange], current: [Int64: EnforcedTLSSettings]) -> SettingsBatch {
        var batch = SettingsBatch()
        var settings = current
        for change in changes {
            guard let old = settings[change.userID] else {
                batch.results.append(.failure(StoreError.notFound("user \(change.userID)")))
                continue
            }
            let new = old.applying(change.patch)
            settings[change.userID] = new
            batch.final[change.userID] = new
            batch.applied.append((change, old, new))
            batch.results.append(.success((old, new)))
        }
        return batch
    }
}
