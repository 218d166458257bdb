import Foundation
import Hummingbird
import SealpostCore
import SealpostStorage

/// `GET /v3/user/settings/enforced_tls/audit` (Sealpost's extension): the user's Enforced TLS
/// audit trail — the account setting and per-domain entries — newest first, as the console's
/// "recent changes" shows it. Key ids name the key (never its secret), as the logs do.
struct AuditRoutes {
    static let path: RouterPath = "/v3/user/settings/enforced_tls/audit"
    let store: any SealpostStore
    let tenants: TenantResolver

    func register(on router: Router<SealpostRequestContext>, known: KnownPaths) {
        router.get(Self.path, use: list)
        router.methodNotAllowed(Self.path.description, allow: [.get], known: known)
    }

    static func string(_ s: String?) -> String {
        guard let s else { return "null" }
        return String(decoding: (try? JSONEncoder().encode(s)) ?? Data("\"\"".utf8), as: UTF8.self)
    }

    @Sendable func list(_ request: Request, context: SealpostRequestContext) async throws -> Response {
        let principal = try context.require(scope: Scope.enforcedTLSRead)
        let target = try await tenants.target(request, principal: principal)
        let limit = try SubuserRoutes.intParameter(
            request.uri.queryParameters["limit"].map(String.init), name: "limit", default: 50, range: 1...500)
        var rows: [(at: Date, rank: Int, id: Int64, json: String)] = []
        func actor(_ a: AuditActor) -> String {
            "\"via\":\(Self.string(a.via)),\"key_id\":\(Self.string(a.keyID)),\"on_behalf_of\":\(Self.string(a.onBehalfOf))"
        }
        for e in try await store.auditEntries(userID: target.user.id) {
            let at = Int(e.at.timeIntervalSince1970)
            rows.append((e.at, 0, e.id, "{\"at\":\(at),\"domain\":null,\"old\":\(e.old.json),\"new\":\(e.new.json),\(actor(e.actor))}"))
        }
        for e in try await store.domainAuditEntries(userID: target.user.id) {
            let at = Int(e.at.timeIntervalSince1970)
            rows.append(
                (
                    e.at, 1, e.id,
                    "{\"at\":\(at),\"domain\":\(Self.string(e.domain)),\"old\":\(e.old?.json ?? "null"),\"new\":\(e.new?.json ?? "null"),\(actor(e.actor))}"
                ))
        }
        let newest = rows.sorted { ($0.at, $0.rank, $0.id) > ($1.at, $1.rank, $1.id) }.prefix(limit)
        return JSONResponse.make(json: "[" + newest.map(\.json).joined(separator: ",") + "]")
    }
}
