import Foundation
import SealpostCore

/// Everything Sealpost persists, behind one interface.
///
/// The HTTP API and the CLI talk only to this protocol. The SQLite implementation is the
/// default; a PostgreSQL one (several nodes on one database) must pass the same test suite.
/// Where the delivery engine reads each sender's Enforced TLS setting. Separate from the
/// whole store so the engine asks for no more than it needs (and a test can make just this
/// read fail, to prove that a failure defers mail instead of lowering its TLS level).
public protocol EnforcedTLSSource: Sendable {
    func enforcedTLS(userID: Int64) async throws -> EnforcedTLSSettings
    /// The user's per-recipient-domain entries, by domain (cached with the setting: the same
    /// change-log scope). A failure defers the user's mail, like a failed settings read.
    func domainTLSEntries(userID: Int64) async throws -> [DomainTLSEntry]
}

/// Users (accounts, subusers, customer accounts) and their API keys.
public protocol TenancyStore: Sendable {
    /// Creates a user with default settings. Names are unique across all kinds
    /// (`nameTaken`); a subuser's or customer's parent must be a parent account.
    func insertUser(kind: UserKind, name: String, email: String?, parentID: Int64?) async throws -> User
    func user(named name: String) async throws -> User?
    func user(id: Int64) async throws -> User?
    /// Subusers of one parent, oldest first; `username` filters on an exact name.
    func subusers(parentID: Int64, username: String?, limit: Int, offset: Int) async throws -> [User]
    /// A subuser by username, only if it belongs to `parentID`.
    func subuser(parentID: Int64, username: String) async throws -> User?
    /// A customer account by id, only if it belongs to `parentID`.
    func customer(parentID: Int64, id: Int64) async throws -> User?

    func insertKey(_ key: StoredAPIKey) async throws
    /// The key (revoked or not) and the user it belongs to, in one read: this is the hot path
    /// of every authenticated request.
    func keyWithUser(id: String) async throws -> (StoredAPIKey, User)?
    /// Live (not revoked) keys of one user, oldest first.
    func keys(userID: Int64) async throws -> [StoredAPIKey]
    /// Marks a key revoked. With `userID`, only a key of that user is touched.
    /// Returns false when there was no such live key.
    func revokeKey(id: String, userID: Int64?) async throws -> Bool
}

/// The Enforced TLS settings and their audit trail.
public protocol SettingsStore: EnforcedTLSSource {
    /// Applies `patch` atomically and records the change in the audit trail, in one
    /// durable transaction. Returns the settings before and after.
    func updateEnforcedTLS(
        userID: Int64, patch: EnforcedTLSPatch, actor: AuditActor
    ) async throws
        -> (old: EnforcedTLSSettings, new: EnforcedTLSSettings)
    /// The audit trail, oldest first; `userID` restricts it to one user.
    func auditEntries(userID: Int64?) async throws -> [AuditEntry]
    /// Creates or replaces `entry` (its domain already normalised) and records the change in the
    /// audit trail, in one durable transaction. Returns the entry it replaced, if any.
    func putDomainTLSEntry(userID: Int64, _ entry: DomainTLSEntry, actor: AuditActor) async throws -> DomainTLSEntry?
    /// Deletes the entry for `domain`, audited; returns it, or nil when there was none.
    func deleteDomainTLSEntry(userID: Int64, domain: String, actor: AuditActor) async throws -> DomainTLSEntry?
    /// The per-domain entries' audit trail, oldest first; `userID` restricts it to one user.
    func domainAuditEntries(userID: Int64?) async throws -> [DomainAuditEntry]
}

/// MTA-STS policies fetched from recipients' policy hosts (RFC 8461 §5.1): kept until their
/// `max_age`, across restarts, and shared by every node on one PostgreSQL database.
public protocol MTASTSCacheStore: Sendable {
    func cachedMTASTSPolicy(domain: String) async throws -> CachedMTASTSPolicy?
    /// Creates or replaces the domain's policy.
    func saveMTASTSPolicy(_ policy: CachedMTASTSPolicy) async throws
}

/// What differs in how a backend is run, answered by every backend so that nothing outside
/// the backends asks which one it is.
public protocol StoreLifecycle: Sendable {
    /// The database for logs and messages (a PostgreSQL password hidden).
    var displayName: String { get }
    /// Called once by `serve` before it starts work; returns how many leases it freed. SQLite
    /// (one server per file, held by the lock taken when it was opened for serving) frees the
    /// leases a killed predecessor left, so they are retried at once; PostgreSQL frees none,
    /// since other nodes may hold them (they expire instead, `--lease`).
    func beginServing() async throws -> Int
    /// The migrations applied to this database, oldest first.
    func appliedMigrations() async throws -> [String]
    /// Closes connections and locks.
    func close()
}

/// Everything Sealpost persists: the roles above, on one database.
///
/// The HTTP API and the CLI talk only to these protocols (each part of the program to the
/// roles it uses). The SQLite implementation is the default; the PostgreSQL one (several nodes
/// on one database) passes the same contract suite.
public protocol SealpostStore: TenancyStore, SettingsStore, MailQueueStore, SuppressionStore, WebhookStore, MTASTSCacheStore,
    DomainAuthenticationStore, TLSObservationStore, TLSReportStore, StatsStore, StoreLifecycle
{
    /// Runs one request's reads against a state at least as new as the moment it starts,
    /// letting an implementation check for foreign changes once per request instead of per read.
    func consistentReads<T: Sendable>(_ body: () async throws -> T) async throws -> T
}

extension SealpostStore {
    public func createAccount(name: String, email: String?) async throws -> User {
        try await insertUser(kind: .account, name: name, email: email, parentID: nil)
    }

    public func createSubuser(parentID: Int64, username: String, email: String?) async throws -> User {
        try await insertUser(kind: .subuser, name: username, email: email, parentID: parentID)
    }

    public func createCustomer(parentID: Int64, name: String) async throws -> User {
        try await insertUser(kind: .customer, name: name, email: nil, parentID: parentID)
    }

    public func consistentReads<T: Sendable>(_ body: () async throws -> T) async throws -> T { try await body() }
}

public enum StoreError: Error, Equatable, CustomStringConvertible {
    /// A unique name is already taken.
    case nameTaken(String)
    /// The referenced user or key does not exist.
    case notFound(String)
    /// The parent of a subuser or customer account must be a parent account.
    case notAParent(String)
    /// The database was written by a newer Sealpost; refusing beats corrupting it.
    case schemaTooNew(applied: [String])
    /// The database lacks migrations this Sealpost needs and was not asked to apply them.
    case schemaBehind(missing: [String])
    /// Another process holds the database exclusively (a second `serve` on one SQLite file).
    case inUse(String)
    /// The database cannot be used right now (see `StoreAvailabilityError`).
    case unavailable(String)

    public var description: String {
        switch self {
        case .nameTaken(let name): "the name \(name) is already taken"
        case .notFound(let what): "\(what) not found"
        case .notAParent(let name): "\(name) is not a parent account"
        case .schemaTooNew(let applied):
            "the database schema is newer than this Sealpost knows (applied migrations: \(applied.joined(separator: ", "))); upgrade Sealpost"
        case .unavailable(let why): "the database is unavailable: \(why)"
        case .inUse(let why): why
        case .schemaBehind(let missing):
            "the database lacks migrations \(missing.joined(separator: ", ")); run `sealpost migrate` with the same --database first"
        }
    }
}
