import Hummingbird
import SealpostCore
import SealpostStorage

/// SendGrid's API key management: create, list, show, delete.
struct APIKeyRoutes {
    static let collection: RouterPath = "/v3/api_keys"
    static let item: RouterPath = "/v3/api_keys/:api_key_id"
    let store: any SealpostStore
    let tenants: TenantResolver

    func register(on router: Router<SealpostRequestContext>, known: KnownPaths) {
        router.post(Self.collection, use: create)
        router.get(Self.collection, use: list)
        router.methodNotAllowed(Self.collection.description, allow: [.get, .post], known: known)
        router.get(Self.item, use: show)
        router.delete(Self.item, use: delete)
        router.methodNotAllowed(Self.item.description, allow: [.get, .delete], known: known)
    }

    struct Created: Encodable {
        var api_key: String
        var api_key_id: String
        var name: String
        var scopes: [String]
    }

    struct Listed: Encodable {
        var api_key_id: String
        var name: String
    }

    struct Shown: Encodable {
        var api_key_id: String
        var name: String
        var scopes: [String]
    }

    @Sendable func create(_ request: Request, context: SealpostRequestContext) async throws -> Response {
        let principal = try context.require(scope: Scope.apiKeysCreate)
        let target = try await tenants.target(request, principal: principal)
        let (name, requested) = try (try await JSONBody.decode(CreateAPIKeyBody.self, request) ?? CreateAPIKeyBody()).validated()
        // A key can only hand out what it holds; without a list the new key copies the caller's grant.
        let grant: ScopeGrant
        if let requested {
            let missing = principal.key.grant.missing(from: requested)
            if !missing.isEmpty {
                throw APIError(
                    .forbidden, field: "scopes", message: "a key cannot grant scopes it does not have: \(missing.joined(separator: ", "))")
            }
            grant = .scopes(requested)
        } else {
            grant = principal.key.grant
        }
        let (token, key) = try await store.issueKey(userID: target.user.id, name: name, grant: grant)
        return try JSONResponse.make(
            .created, encoding: Created(api_key: token.plaintext, api_key_id: key.id, name: key.name, scopes: key.grant.listed))
    }

    @Sendable func list(_ request: Request, context: SealpostRequestContext) async throws -> Response {
        struct Body: Encodable { var result: [Listed] }
        let principal = try context.require(scope: Scope.apiKeysRead)
        let target = try await tenants.target(request, principal: principal)
        let keys = try await store.keys(userID: target.user.id)
        return try JSONResponse.make(encoding: Body(result: keys.map { Listed(api_key_id: $0.id, name: $0.name) }))
    }

    @Sendable func show(_ request: Request, context: SealpostRequestContext) async throws -> Response {
        let principal = try context.require(scope: Scope.apiKeysRead)
        let target = try await tenants.target(request, principal: principal)
        let id = context.parameters.get("api_key_id") ?? ""
        // Another tenant's key id answers exactly like an unknown one.
        guard let (key, _) = try await store.keyWithUser(id: id), key.userID == target.user.id, key.revokedAt == nil else {
            throw APIError.notFound
        }
        return try JSONResponse.make(encoding: Shown(api_key_id: key.id, name: key.name, scopes: key.grant.listed))
    }

    @Sendable func delete(_ request: Request, context: SealpostRequestContext) async throws -> Response {
        let principal = try context.require(scope: Scope.apiKeysDelete)
        let target = try await tenants.target(request, principal: principal)
        let id = context.parameters.get("api_key_id") ?? ""
        guard try await store.revokeKey(id: id, userID: target.user.id) else { throw APIError.notFound }
        return Response(status: .noContent)
    }
}
