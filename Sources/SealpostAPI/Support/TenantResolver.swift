import Hummingbird
import SealpostCore
import SealpostStorage

/// Decides which user a request acts on: the caller's own, or the subuser / customer account
/// named by `on-behalf-of`.
///
/// Every refusal is the same 403 `access forbidden`, whether the target does not exist,
/// belongs to another parent, or the caller may not impersonate at all: a caller must not be
/// able to learn anything about other tenants from the answer.
struct TenantResolver: Sendable {
    let store: any SealpostStore

    struct Target: Sendable {
        var user: User
        /// The canonical header value, for the audit trail; `nil` when acting as oneself.
        var onBehalfOf: String?
    }

    func target(_ request: Request, principal: Principal) async throws -> Target {
        guard let header = request.headers[.onBehalfOf] else {
            return Target(user: principal.user, onBehalfOf: nil)
        }
        guard principal.user.kind == .account else { throw APIError.forbidden }
        let target = OnBehalfOf(header: header)
        let user: User?
        switch target {
        case .subuser(let username): user = try await store.subuser(parentID: principal.user.id, username: username)
        case .customer(let id): user = try await store.customer(parentID: principal.user.id, id: id)
        case .invalid: user = nil
        }
        guard let user else { throw APIError.forbidden }
        return Target(user: user, onBehalfOf: target.description)
    }
}
