import Foundation
import Hummingbird
import Metrics
import SealpostCore
import SealpostStorage

/// Sealpost's per-recipient-domain Enforced TLS entries, beside SendGrid's account object:
/// `GET /v3/user/settings/enforced_tls/domains` and `GET`, `PUT`, `DELETE …/domains/{domain}`.
/// Same scopes, `on-behalf-of`, validation, error shape and rate limits as the account object;
/// every change is audited.
struct DomainTLSRoutes {
    static let collection: RouterPath = "/v3/user/settings/enforced_tls/domains"
    static let item: RouterPath = "/v3/user/settings/enforced_tls/domains/:domain"
    let store: any SealpostStore
    let tenants: TenantResolver

    func register(on router: Router<SealpostRequestContext>, known: KnownPaths) {
        router.get(Self.collection, use: list)
        router.methodNotAllowed(Self.collection.description, allow: [.get], known: known)
        router.get(Self.item, use: show)
        router.put(Self.item, use: put)
        router.delete(Self.item, use: delete)
        router.methodNotAllowed(Self.item.description, allow: [.get, .put, .delete], known: known)
    }

    @Sendable func list(_ request: Request, context: SealpostRequestContext) async throws -> Response {
        let principal = try context.require(scope: Scope.enforcedTLSRead)
        let target = try await tenants.target(request, principal: principal)
        let entries = try await store.domainTLSEntries(userID: target.user.id)
        return JSONResponse.make(json: "[" + entries.map(\.json).joined(separator: ",") + "]")
    }

    @Sendable func show(_ request: Request, context: SealpostRequestContext) async throws -> Response {
        let principal = try context.require(scope: Scope.enforcedTLSRead)
        let target = try await tenants.target(request, principal: principal)
        let domain = try Self.domain(context)
        guard let entry = try await store.domainTLSEntries(userID: target.user.id).first(where: { $0.domain == domain }) else {
            throw APIError.notFound
        }
        return JSONResponse.make(json: entry.json)
    }

    /// The three fields of the account object; absent ones take the defaults (false, false, 1.1).
    @Sendable func put(_ request: Request, context: SealpostRequestContext) async throws -> Response {
        let principal = try context.require(scope: Scope.enforcedTLSUpdate)
        let target = try await tenants.target(request, principal: principal)
        let domain = try Self.domain(context)
        let fields = try (try await JSONBody.decode(EnforcedTLSPatchBody.self, request) ?? EnforcedTLSPatchBody()).validated()
        let entry = DomainTLSEntry(domain: domain, settings: EnforcedTLSSettings.default.applying(fields))
        let actor = AuditActor(keyID: principal.key.id, onBehalfOf: target.onBehalfOf, via: "api")
        let old = try await store.putDomainTLSEntry(userID: target.user.id, entry, actor: actor)
        if old != entry {
            context.logger.info(
                "enforced TLS domain entry set",
                metadata: [
                    "user": "\(target.user.name)", "key_id": "\(principal.key.id)", "domain": "\(domain)",
                    "old": "\(old?.settings.json ?? "none")", "new": "\(entry.settings.json)",
                ])
        }
        Counter(label: "sealpost_enforced_tls_domain_updates_total", dimensions: [("change", old == nil ? "created" : "replaced")])
            .increment()
        return JSONResponse.make(json: entry.json)
    }

    @Sendable func delete(_ request: Request, context: SealpostRequestContext) async throws -> Response {
        let principal = try context.require(scope: Scope.enforcedTLSUpdate)
        let target = try await tenants.target(request, principal: principal)
        let domain = try Self.domain(context)
        let actor = AuditActor(keyID: principal.key.id, onBehalfOf: target.onBehalfOf, via: "api")
        guard let old = try await store.deleteDomainTLSEntry(userID: target.user.id, domain: domain, actor: actor) else {
            throw APIError.notFound
        }
        context.logger.info(
            "enforced TLS domain entry deleted",
            metadata: [
                "user": "\(target.user.name)", "key_id": "\(principal.key.id)", "domain": "\(domain)", "old": "\(old.settings.json)",
            ])
        Counter(label: "sealpost_enforced_tls_domain_updates_total", dimensions: [("change", "deleted")]).increment()
        return Response(status: .noContent)
    }

    static func domain(_ context: SealpostRequestContext) throws -> String {
        let raw = (context.parameters.get("domain") ?? "").removingPercentEncoding ?? ""
        guard let domain = DomainTLSEntry.normalize(raw, asciiOnly: true) else {
            throw APIError.badRequest(
                field: "domain",
                "domain must be a domain name in A-labels (example.com, xn--bcher-kva.example) or a dot form for its subdomains (.example.com)"
            )
        }
        return domain
    }
}
