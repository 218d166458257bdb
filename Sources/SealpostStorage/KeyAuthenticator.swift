import SealpostCore

/// Turns a presented API key (`SG.<id>.<secret>`) into the stored key and its user, for every
/// door that takes one: the HTTP API's `Authorization: Bearer` and SMTP submission's AUTH.
///
/// The secret is compared in constant time, and an unknown key id costs the same hash as a
/// known one, so response times tell nothing about which ids exist. Revoked keys fail.
public struct KeyAuthenticator: Sendable {
    public let store: any TenancyStore

    public init(store: any TenancyStore) { self.store = store }

    public func authenticate(_ token: some StringProtocol) async throws -> (StoredAPIKey, User)? {
        guard let presented = APIKeyToken(presented: token) else { return nil }
        guard let (key, user) = try await store.keyWithUser(id: presented.id) else {
            _ = presented.matches(storedHash: Self.decoyHash)
            return nil
        }
        guard presented.matches(storedHash: key.secretHash), key.revokedAt == nil else { return nil }
        return (key, user)
    }

    private static let decoyHash = [UInt8](repeating: 0, count: 32)
}
