import Foundation
import SealpostCore

/// Authenticated (DKIM) sending domains, per owning tenant.
public protocol DomainAuthenticationStore: Sendable {
    /// Stores a new domain and returns it with its id; `nameTaken` when the owner has it already
    /// (the same domain and subdomain). A default domain makes the owner's others not default.
    func createAuthenticatedDomain(_ domain: AuthenticatedDomain) async throws -> AuthenticatedDomain
    /// The owner's domains (every owner's for `nil`), oldest first.
    func authenticatedDomains(ownerID: Int64?) async throws -> [AuthenticatedDomain]
    func authenticatedDomain(id: Int64, ownerID: Int64?) async throws -> AuthenticatedDomain?
    /// Saves `domain` over the stored one with its id and owner (default, custom_spf, valid,
    /// selector and key); false when there is none. A default domain makes the others not default.
    func updateAuthenticatedDomain(_ domain: AuthenticatedDomain) async throws -> Bool
    func deleteAuthenticatedDomain(id: Int64, ownerID: Int64?) async throws -> Bool
}
