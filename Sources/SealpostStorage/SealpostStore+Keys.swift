import Foundation
import SealpostCore

extension SealpostStore {
    /// Creates a key for a user and returns the plaintext, which exists only in this return value.
    public func issueKey(userID: Int64, name: String, grant: ScopeGrant) async throws -> (token: APIKeyToken, key: StoredAPIKey) {
        let token = APIKeyToken.generate()
        let key = StoredAPIKey(
            id: token.id, userID: userID, name: name, grant: grant, secretHash: token.secretHash,
            createdAt: Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down)))
        try await insertKey(key)
        return (token, key)
    }
}
