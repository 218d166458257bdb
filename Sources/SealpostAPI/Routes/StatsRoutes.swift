import Foundation
import Hummingbird
import SealpostCore
import SealpostStorage

/// `GET /v3/stats` (SendGrid's global stats) and Sealpost's `GET /v3/user/settings/enforced_tls/stats`
/// (delivered mail by TLS level and version), both from the per-day counters kept as events are
/// stored: a month is a few dozen rows, whatever the volume.
struct StatsRoutes {
    static let path: RouterPath = "/v3/stats"
    static let tlsPath: RouterPath = "/v3/user/settings/enforced_tls/stats"
    let store: any SealpostStore
    let tenants: TenantResolver

    func register(on router: Router<SealpostRequestContext>, known: KnownPaths) {
        router.get(Self.path, use: global)
        router.methodNotAllowed(Self.path.description, allow: [.get], known: known)
        router.get(Self.tlsPath, use: tls)
        router.methodNotAllowed(Self.tlsPath.description, allow: [.get], known: known)
    }

    /// The counters of the caller (or its subuser or customer, `on-behalf-of`) for the query.
    func counts(
        _ request: Request, context: SealpostRequestContext
    ) async throws -> (
        [(day: Int, metric: String, count: Int)], StatsQuery
    ) {
        let principal = try context.require(scope: Scope.statsRead)
        let target = try await tenants.target(request, principal: principal)
        let q = request.uri.queryParameters
        let query = try StatsQuery.parse(
            startDate: q["start_date"].map(String.init), endDate: q["end_date"].map(String.init),
            aggregatedBy: q["aggregated_by"].map(String.init), today: Int(Date().timeIntervalSince1970) / 86_400)
        let rows = try await store.statCounts(userID: target.user.id, fromDay: query.startDay, toDay: query.endDay)
        return (rows.map { (day: $0.day, metric: $0.metric, count: $0.count) }, query)
    }

    @Sendable func global(_ request: Request, context: SealpostRequestContext) async throws -> Response {
        let (rows, query) = try await counts(request, context: context)
        return try JSONResponse.make(encoding: GlobalStatsEntry.build(rows, query: query))
    }

    @Sendable func tls(_ request: Request, context: SealpostRequestContext) async throws -> Response {
        let (rows, query) = try await counts(request, context: context)
        return try JSONResponse.make(encoding: TLSStatsEntry.build(rows, query: query))
    }
}
