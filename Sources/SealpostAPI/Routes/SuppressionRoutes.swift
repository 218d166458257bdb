import Foundation
import Hummingbird
import SealpostCore
import SealpostStorage

/// SendGrid's suppression lists: `/v3/suppression/{blocks,bounces,invalid_emails}` (list,
/// bulk delete, one address, delete one), `/v3/suppression/unsubscribes` (list), and the
/// global unsubscribes of `/v3/asm/suppressions/global` (add, check, remove). Each list has
/// its own scopes; every route takes `on-behalf-of`.
struct SuppressionRoutes {
    /// One list's routes and what its entries show.
    struct ListRoute {
        var list: SuppressionList
        var read: String
        var delete: String
        /// Which of `reason` and `status` its entries carry (SendGrid's shapes differ).
        var reason: Bool
        var status: Bool
    }

    static let lists = [
        ListRoute(list: .blocks, read: Scope.blocksRead, delete: Scope.blocksDelete, reason: true, status: true),
        ListRoute(list: .bounces, read: Scope.bouncesRead, delete: Scope.bouncesDelete, reason: true, status: true),
        ListRoute(list: .invalidEmails, read: Scope.invalidEmailsRead, delete: Scope.invalidEmailsDelete, reason: true, status: false),
    ]
    static let global: RouterPath = "/v3/asm/suppressions/global"
    static let globalItem: RouterPath = "/v3/asm/suppressions/global/:email"
    static let unsubscribes: RouterPath = "/v3/suppression/unsubscribes"
    let store: any SealpostStore
    let tenants: TenantResolver

    func register(on router: Router<SealpostRequestContext>, known: KnownPaths) {
        for route in Self.lists {
            let collection = RouterPath("/v3/suppression/\(route.list.rawValue)")
            let item = RouterPath("/v3/suppression/\(route.list.rawValue)/:email")
            router.get(collection) { request, context in try await list(route, request, context) }
            router.delete(collection) { request, context in try await deleteMany(route, request, context) }
            router.methodNotAllowed(collection.description, allow: [.get, .delete], known: known)
            router.get(item) { request, context in try await show(route, request, context) }
            router.delete(item) { request, context in try await deleteOne(route, request, context) }
            router.methodNotAllowed(item.description, allow: [.get, .delete], known: known)
        }
        let unsubscribed = ListRoute(
            list: .unsubscribes, read: Scope.unsubscribesRead, delete: Scope.globalSuppressionsDelete, reason: false, status: false)
        router.get(Self.unsubscribes) { request, context in try await list(unsubscribed, request, context) }
        router.methodNotAllowed(Self.unsubscribes.description, allow: [.get], known: known)
        router.post(Self.global, use: addGlobal)
        router.methodNotAllowed(Self.global.description, allow: [.post], known: known)
        router.get(Self.globalItem, use: showGlobal)
        router.delete(Self.globalItem) { request, context in try await deleteOne(unsubscribed, request, context) }
        router.methodNotAllowed(Self.globalItem.description, allow: [.get, .delete], known: known)
    }

    static func json(_ records: [BlockRecord], _ route: ListRoute) -> String {
        let items = records.map { r in
            var parts = ["\"created\":\(r.created)", "\"email\":\(WebhookRoutes.quote(r.email))"]
            if route.reason { parts.append("\"reason\":\(WebhookRoutes.quote(r.reason))") }
            if route.status { parts.append("\"status\":\(WebhookRoutes.quote(r.status))") }
            return "{" + parts.joined(separator: ",") + "}"
        }
        return "[" + items.joined(separator: ",") + "]"
    }

    func list(_ route: ListRoute, _ request: Request, _ context: SealpostRequestContext) async throws -> Response {
        let principal = try context.require(scope: route.read)
        let target = try await tenants.target(request, principal: principal)
        let q = request.uri.queryParameters
        let query = BlockQuery(
            startTime: try Self.optionalInt(q["start_time"].map(String.init), "start_time"),
            endTime: try Self.optionalInt(q["end_time"].map(String.init), "end_time"),
            emailPrefix: q["email"].map { String($0).replacingOccurrences(of: "%", with: "") },
            limit: try SubuserRoutes.intParameter(q["limit"].map(String.init), name: "limit", default: 500, range: 1...500),
            offset: try SubuserRoutes.intParameter(q["offset"].map(String.init), name: "offset", default: 0, range: 0...Int(Int32.max)))
        return JSONResponse.make(
            json: Self.json(try await store.suppressions(userID: target.user.id, list: route.list, query: query), route))
    }

    func show(_ route: ListRoute, _ request: Request, _ context: SealpostRequestContext) async throws -> Response {
        let principal = try context.require(scope: route.read)
        let target = try await tenants.target(request, principal: principal)
        let email = Self.email(context)
        let found = try await store.suppressions(
            userID: target.user.id, list: route.list, query: BlockQuery(emailPrefix: email, limit: 500)
        )
        .filter { $0.email == email.lowercased() }
        return JSONResponse.make(json: Self.json(found, route))
    }

    func deleteMany(_ route: ListRoute, _ request: Request, _ context: SealpostRequestContext) async throws -> Response {
        let principal = try context.require(scope: route.delete)
        let target = try await tenants.target(request, principal: principal)
        let body = try await JSONBody.decode(SuppressionDeleteBody.self, request) ?? SuppressionDeleteBody()
        _ = try await store.deleteSuppressions(userID: target.user.id, list: route.list, emails: try body.validated())
        return Response(status: .noContent)
    }

    func deleteOne(_ route: ListRoute, _ request: Request, _ context: SealpostRequestContext) async throws -> Response {
        let principal = try context.require(scope: route.delete)
        let target = try await tenants.target(request, principal: principal)
        guard try await store.deleteSuppressions(userID: target.user.id, list: route.list, emails: [Self.email(context)]) > 0 else {
            throw APIError.notFound
        }
        return Response(status: .noContent)
    }

    /// 201 `{"recipient_emails": [...]}`, the addresses as given.
    @Sendable func addGlobal(_ request: Request, context: SealpostRequestContext) async throws -> Response {
        let principal = try context.require(scope: Scope.globalSuppressionsCreate)
        let target = try await tenants.target(request, principal: principal)
        let emails = try (try await JSONBody.decode(GlobalSuppressionsBody.self, request) ?? GlobalSuppressionsBody()).validated()
        let now = Int(Date().timeIntervalSince1970)
        try await store.addSuppressions(
            userID: target.user.id, list: .unsubscribes,
            emails.map { BlockRecord(userID: target.user.id, email: $0, reason: "", status: "", created: now) })
        let listed = emails.map(WebhookRoutes.quote).joined(separator: ",")
        return JSONResponse.make(.created, json: "{\"recipient_emails\":[\(listed)]}")
    }

    /// `{"recipient_email": e}` when globally unsubscribed, else `{}` (SendGrid's answer).
    @Sendable func showGlobal(_ request: Request, context: SealpostRequestContext) async throws -> Response {
        let principal = try context.require(scope: Scope.globalSuppressionsRead)
        let target = try await tenants.target(request, principal: principal)
        let email = Self.email(context)
        let on = try await store.suppressingLists(userID: target.user.id, emails: [email])[email.lowercased()]?.contains(.unsubscribes)
        return JSONResponse.make(json: on == true ? "{\"recipient_email\":\(WebhookRoutes.quote(email))}" : "{}")
    }

    static func email(_ context: SealpostRequestContext) -> String {
        (context.parameters.get("email") ?? "").removingPercentEncoding ?? ""
    }

    static func optionalInt(_ raw: String?, _ name: String) throws -> Int? {
        guard let raw else { return nil }
        guard let n = Int(raw), (0...4_102_444_800).contains(n) else {
            throw APIError.badRequest(field: name, "\(name) must be a Unix timestamp")
        }
        return n
    }
}
