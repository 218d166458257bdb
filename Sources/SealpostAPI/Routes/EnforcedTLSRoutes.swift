import Hummingbird
import Metrics
import SealpostSettings
import SealpostStorage

/// `GET` and `PATCH /v3/user/settings/enforced_tls`, SendGrid's contract.
struct EnforcedTLSRoutes {
    static let path: RouterPath = "/v3/user/settings/enforced_tls"
    let store: any SealpostStore
    let tenants: TenantResolver

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
        let patch = try Self.validate(try await JSONBody.decode(EnforcedTLSPatchBody.self, request) ?? EnforcedTLSPatchBody())
        let actor = AuditActor(keyID: principal.key.id, onBehalfOf: target.onBehalfOf, via: "api")
        let (old, new) = try await store.updateEnforcedTLS(userID: target.user.id, patch: patch, actor: actor)
        if old != new {
            context.logger.info("enforced TLS changed", metadata: [
                "user": "\(target.user.name)", "key_id": "\(principal.key.id)", "old": "\(old.json)", "new": "\(new.json)",
            ])
        }
        Counter(label: "sealpost_enforced_tls_updates_total", dimensions: [("changed", old != new ? "true" : "false")]).increment()
        return JSONResponse.make(json: new.json)
    }

    /// Validates a PATCH body field by field. All problems are reported at once, each naming
    /// its field; unknown fields are ignored (forward compatibility, as SendGrid does).
    static func validate(_ body: EnforcedTLSPatchBody) throws -> EnforcedTLSPatch {
        var patch = EnforcedTLSPatch()
        var errors: [APIError.Item] = []
        func flag(_ field: PatchField<Bool>, _ name: String) -> Bool? {
            switch field {
            case .absent: return nil
            case .value(let b): return b
            case .invalid(let type):
                errors.append(.init(field: name, message: "\(name) must be a boolean (true or false), not \(type)"))
                return nil
            }
        }
        patch.requireTLS = flag(body.requireTLS, "require_tls")
        patch.requireValidCert = flag(body.requireValidCert, "require_valid_cert")
        switch body.version {
        case .absent: break
        case .value(let input):
            let version: TLSVersion? = switch input {
            case .number(let n): TLSVersion(number: n)
            case .text(let s): TLSVersion(text: s)
            }
            if let version { patch.version = version } else { errors.append(.init(field: "version", message: "version must be one of 1.1, 1.2 or 1.3")) }
        case .invalid:
            errors.append(.init(field: "version", message: "version must be one of 1.1, 1.2 or 1.3"))
        }
        if !errors.isEmpty { throw APIError(.badRequest, errors: errors) }
        return patch
    }
}
