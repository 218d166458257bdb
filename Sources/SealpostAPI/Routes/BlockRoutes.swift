import Foundation
import Hummingbird
import SealpostCore
import SealpostStorage

/// SendGrid's blocks list: addresses whose mail was blocked (Enforced TLS blocks among them).
struct BlockRoutes {
    static let collection: RouterPath = "/v3/suppression/blocks"
    static let item: RouterPath = "/v3/suppression/blocks/:email"
    let store: any SealpostStore
    let tenants: TenantResolver

    func register(on router: Router<SealpostRequestContext>, known: KnownPaths) {
        router.get(Self.collection, use: list)
        router.methodNotAllowed(Self.collection.description, allow: [.get], known: known)
        router.get(Self.item, use: show)
        router.delete(Self.item, use: delete)
        router.methodNotAllowed(Self.item.description, allow: [.get, .delete], known: known)
    }

    struct Listed: Encodable {
        var created: Int
        var email: String
        var reason: String
        var status: String
    }

    @Sendable func list(_ request: Request, context: SealpostRequestContext) async throws -> Response {
        let principal = try context.require(scope: Scope.blocksRead)
        let target = try await tenants.target(request, principal: principal)
        let q = request.uri.queryParameters
        let query = BlockQuery(
            startTime: try Self.optionalInt(q["start_time"].map(String.init), "start_time"),
            endTime: try Self.optionalInt(q["end_time"].map(String.init), "end_time"),
            emailPrefix: q["email"].map { String($0).replacingOccurrences(of: "%", with: "") },
            limit: try SubuserRoutes.intParameter(q["limit"].map(String.init), name: "limit", default: 500, range: 1...500),
            offset: try SubuserRoutes.intParameter(q["offset"].map(String.init), name: "offset", default: 0, range: 0...Int(Int32.max)))
        let blocks = try await store.blocks(userID: target.user.id, query: query)
        return try JSONResponse.make(
            encoding: blocks.map { Listed(created: $0.created, email: $0.email, reason: $0.reason, status: $0.status) })
    }

    @Sendable func show(_ request: Request, context: SealpostRequestContext) async throws -> Response {
        let principal = try context.require(scope: Scope.blocksRead)
        let target = try await tenants.target(request, principal: principal)
        let email = (context.parameters.get("email") ?? "").removingPercentEncoding ?? ""
        let blocks = try await store.blocks(userID: target.user.id, query: BlockQuery(emailPrefix: email, limit: 500)).filter {
            $0.email == email.lowercased()
        }
        return try JSONResponse.make(
            encoding: blocks.map { Listed(created: $0.created, email: $0.email, reason: $0.reason, status: $0.status) })
    }

    @Sendable func delete(_ request: Request, context: SealpostRequestContext) async throws -> Response {
        let principal = try context.require(scope: Scope.blocksDelete)
        let target = try await tenants.target(request, principal: principal)
        let email = (context.parameters.get("email") ?? "").removingPercentEncoding ?? ""
        guard try await store.deleteBlock(userID: target.user.id, email: email) else { throw APIError.notFound }
        return Response(status: .noContent)
    }

    static func optionalInt(_ raw: String?, _ name: String) throws -> Int? {
        guard let raw else { return nil }
        guard let n = Int(raw), (0...4_102_444_800).contains(n) else {
            throw APIError.badRequest(field: name, "\(name) must be a Unix timestamp")
        }
        return n
    }
}
