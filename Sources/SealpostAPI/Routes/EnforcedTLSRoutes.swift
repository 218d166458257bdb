import Hummingbird
import Metrics
import SealpostCore
import SealpostStorage

/// `GET` and `PATCH /v3/user/settings/enforced_tls`, SendGrid's contract.
struct EnforcedTLSRoutes {
    static let path: RouterPath = "/v3/user/settings/enforced_tls"
    let store: any SealpostStore
    let tenants: TenantResolver
    /// Made once (on the first PATCH, after `serve` bootstrapped the metrics system), not per
    /// request: a counter's creation is a locked lookup in the metrics registry.
    private static let changed = Counter(label: "sealpost_enforced_tls_updates_total", dimensions: [("changed", "true")])
    private static let unchanged = Counter(label: "sealpost_enforced_tls_updates_total", dimensions: [("changed", "false")])

    func register(on router: Router<SealpostRequestContext>, known: KnownPaths) {
        router.get(Self.path, use: get)
        router.patch(Self.path, use: patch)
        router.methodNotAllowed(Self.path.description, allow: [.get, .patch], known: known)
    }

    @Sendable func get(_ request: Request, context: SealpostRequestContext) async throws -> Response {
        let principal = try context.require(scope: Scope.enforcedTLSRead)
        let target = try await tenants.target(request, principal: principal)
        let settings = try await store.enforcedTLS(userID: target.user.id)
        return JSONResponse.make(json: settings.json)
    }

    @Sendable func patch(_ request: Request, context: SealpostRequestContext) async throws -> Response {
        let principal = try context.require(scope: Scope.enforcedTLSUpdate)
        let target = try await tenants.target(request, principal: principal)
        let patch = try (try await JSONBody.decode(EnforcedTLSPatchBody.self, request) ?? EnforcedTLSPatchBody()).validated()
        let actor = AuditActor(keyID: principal.key.id, onBehalfOf: target.onBehalfOf, via: "api")
        let (old, new) = try await store.updateEnforcedTLS(userID: target.user.id, patch: patch, actor: actor)
        if old != new {
            context.logger.info(
                "enforced TLS changed",
                metadata: [
                    "user": "\(target.user.name)", "key_id": "\(principal.key.id)", "old": "\(old.json)", "new": "\(new.json)",
                ])
        }
        (old != new ? Self.changed : Self.unchanged).increment()
        return JSONResponse.make(json: new.json)
    }
}
