import Foundation
import Hummingbird
import SealpostCore
import SealpostStorage

/// SendGrid's domain authentication, `/v3/whitelabel/domains`, with manual security: Sealpost
/// makes the RSA-2048 key pair and answers the TXT record to publish (`dns.dkim`); `validate`
/// looks it up through Sealpost's resolver. A domain belongs to one tenant (a parent account,
/// shared with its subusers, or a customer account): others get 404 for it.
struct DomainAuthenticationRoutes {
    static let collection: RouterPath = "/v3/whitelabel/domains"
    static let item: RouterPath = "/v3/whitelabel/domains/:id"
    static let validate: RouterPath = "/v3/whitelabel/domains/:id/validate"
    let store: any SealpostStore
    let tenants: TenantResolver
    let txt: any TXTResolving

    func register(on router: Router<SealpostRequestContext>, known: KnownPaths) {
        router.get(Self.collection, use: list)
        router.post(Self.collection, use: create)
        router.methodNotAllowed(Self.collection.description, allow: [.get, .post], known: known)
        router.get(Self.item, use: show)
        router.patch(Self.item, use: update)
        router.delete(Self.item, use: delete)
        router.methodNotAllowed(Self.item.description, allow: [.get, .patch, .delete], known: known)
        router.post(Self.validate, use: validateDomain)
        router.methodNotAllowed(Self.validate.description, allow: [.post], known: known)
    }

    /// SendGrid's object, with `dns.dkim` as it is without automated security.
    static func json(_ d: AuthenticatedDomain, username: String) -> String {
        let q = WebhookRoutes.quote
        let dkim =
            "{\"valid\":\(d.valid),\"type\":\"txt\",\"host\":\(q(d.dkimHost)),\"data\":\(q(DKIMSigner.dnsRecord(publicKey: d.publicKey)))}"
        return "{\"id\":\(d.id),\"user_id\":\(d.ownerID),\"subdomain\":\(q(d.subdomain)),\"domain\":\(q(d.domain)),"
            + "\"username\":\(q(username)),\"ips\":[],\"custom_spf\":\(d.customSPF),\"default\":\(d.isDefault),\"legacy\":false,"
            + "\"automatic_security\":false,\"valid\":\(d.valid),\"dns\":{\"dkim\":\(dkim)}}"
    }

    /// The target tenant's owner (a subuser's parent), with the name shown as `username`.
    func owner(_ request: Request, _ context: SealpostRequestContext, scope: String) async throws -> User {
        let principal = try context.require(scope: scope)
        let target = try await tenants.target(request, principal: principal).user
        let ownerID = AuthenticatedDomain.owner(of: target)
        if ownerID == target.id { return target }
        guard let parent = try await store.user(id: ownerID) else { throw APIError.forbidden }
        return parent
    }

    func domain(_ context: SealpostRequestContext, owner: User) async throws -> AuthenticatedDomain {
        guard let raw = context.parameters.get("id"), let id = Int64(raw), id > 0,
            let d = try await store.authenticatedDomain(id: id, ownerID: owner.id)
        else { throw APIError.notFound }
        return d
    }

    @Sendable func create(_ request: Request, context: SealpostRequestContext) async throws -> Response {
        let owner = try await owner(request, context, scope: Scope.whitelabelCreate)
        let body = try (try await JSONBody.decode(AuthenticateDomainBody.self, request) ?? AuthenticateDomainBody()).validated()
        let key = try DKIMSigner.newKey()
        do {
            let created = try await store.createAuthenticatedDomain(
                AuthenticatedDomain(
                    ownerID: owner.id, domain: body.domain, subdomain: body.subdomain, selector: body.selector, privateKey: key.privateKey,
                    publicKey: key.publicKey, isDefault: body.isDefault, customSPF: body.customSPF, valid: false))
            return JSONResponse.make(.created, json: Self.json(created, username: owner.name))
        } catch StoreError.nameTaken {
            throw APIError(.conflict, field: "domain", message: "A domain authentication for this domain and subdomain already exists.")
        }
    }

    @Sendable func list(_ request: Request, context: SealpostRequestContext) async throws -> Response {
        let owner = try await owner(request, context, scope: Scope.whitelabelRead)
        let q = request.uri.queryParameters
        let limit = try SubuserRoutes.intParameter(q["limit"].map(String.init), name: "limit", default: 500, range: 1...500)
        let offset = try SubuserRoutes.intParameter(q["offset"].map(String.init), name: "offset", default: 0, range: 0...Int(Int32.max))
        let filter = q["domain"].map { String($0).lowercased() }
        let domains = try await store.authenticatedDomains(ownerID: owner.id).filter { filter == nil || $0.domain == filter }
        let page = domains.dropFirst(offset).prefix(limit).map { Self.json($0, username: owner.name) }
        return JSONResponse.make(json: "[" + page.joined(separator: ",") + "]")
    }

    @Sendable func show(_ request: Request, context: SealpostRequestContext) async throws -> Response {
        let owner = try await owner(request, context, scope: Scope.whitelabelRead)
        return JSONResponse.make(json: Self.json(try await domain(context, owner: owner), username: owner.name))
    }

    @Sendable func update(_ request: Request, context: SealpostRequestContext) async throws -> Response {
        let owner = try await owner(request, context, scope: Scope.whitelabelUpdate)
        var d = try await domain(context, owner: owner)
        let patch = try (try await JSONBody.decode(UpdateDomainBody.self, request) ?? UpdateDomainBody()).validated()
        if let isDefault = patch.isDefault { d.isDefault = isDefault }
        if let customSPF = patch.customSPF { d.customSPF = customSPF }
        guard try await store.updateAuthenticatedDomain(d) else { throw APIError.notFound }
        return JSONResponse.make(json: Self.json(d, username: owner.name))
    }

    @Sendable func delete(_ request: Request, context: SealpostRequestContext) async throws -> Response {
        let owner = try await owner(request, context, scope: Scope.whitelabelDelete)
        let d = try await domain(context, owner: owner)
        guard try await store.deleteAuthenticatedDomain(id: d.id, ownerID: owner.id) else { throw APIError.notFound }
        return Response(status: .noContent)
    }

    /// Looks the TXT record up and stores the answer: `valid` (signing on) only while the
    /// published record carries this key. A lookup that failed changes nothing.
    @Sendable func validateDomain(_ request: Request, context: SealpostRequestContext) async throws -> Response {
        let owner = try await owner(request, context, scope: Scope.whitelabelUpdate)
        var d = try await domain(context, owner: owner)
        let expected = DKIMSigner.dnsRecord(publicKey: d.publicKey)
        let valid: Bool
        let reason: String?
        switch await txt.txt(d.dkimHost) {
        case .failure(let error):
            valid = false
            reason = "The DNS lookup of \(d.dkimHost) failed (\(error.reason)); nothing was changed. Try again later."
        case .success(let records):
            valid = records.contains(where: d.isPublished(in:))
            if valid {
                reason = nil
            } else if records.isEmpty {
                reason = "Expected a TXT record at \(d.dkimHost) with the value \"\(expected)\" but found none."
            } else {
                reason =
                    "Expected your DKIM record at \(d.dkimHost) to be \"\(expected)\" but found \"\(records.joined(separator: "\", \""))\"."
            }
            if d.valid != valid {
                d.valid = valid
                _ = try await store.updateAuthenticatedDomain(d)
            }
        }
        let q = WebhookRoutes.quote
        return JSONResponse.make(
            json:
                "{\"id\":\(d.id),\"valid\":\(valid),\"validation_results\":{\"dkim\":{\"valid\":\(valid),\"reason\":\(reason.map(q) ?? "null")}}}"
        )
    }
}

/// No resolver: every validation answers that the lookup failed (router tests without DNS).
public struct NoTXTResolver: TXTResolving {
    public init() {}
    public func txt(_ name: String) async -> Result<[String], TXTLookupError> { .failure(TXTLookupError("no resolver configured")) }
}
