import Foundation
import Hummingbird
import SealpostCore
import SealpostStorage

/// `GET /v3/user/settings/enforced_tls/check?domain=…[&require_tls=…&require_valid_cert=…&version=…]`:
/// the engine's decision for one recipient domain under the current (or proposed) settings,
/// found by connecting to its MX hosts without sending mail. Bounded by its own per-key rate
/// limit (`--check-rate-limit`), apart from the general one, since each call opens connections.
struct TLSCheckRoutes {
    static let path: RouterPath = "/v3/user/settings/enforced_tls/check"
    static let impactPath: RouterPath = "/v3/user/settings/enforced_tls/impact"
    let store: any SealpostStore
    let tenants: TenantResolver
    let checker: any TLSChecking
    let limiter: RateLimiter
    let judge: any TLSImpactJudging

    func register(on router: Router<SealpostRequestContext>, known: KnownPaths) {
        router.get(Self.path, use: check)
        router.methodNotAllowed(Self.path.description, allow: [.get], known: known)
        router.get(Self.impactPath, use: impact)
        router.methodNotAllowed(Self.impactPath.description, allow: [.get], known: known)
    }

    /// `GET …/impact?require_tls=…&require_valid_cert=…&version=…&days=30`: the user's recipient
    /// domains whose last finding the proposed settings would refuse, with their message counts.
    @Sendable func impact(_ request: Request, context: SealpostRequestContext) async throws -> Response {
        let principal = try context.require(scope: Scope.enforcedTLSRead)
        let target = try await tenants.target(request, principal: principal)
        let q = request.uri.queryParameters
        let days = try SubuserRoutes.intParameter(
            q["days"].map(String.init), name: "days", default: TLSObservation.retentionDays, range: 1...TLSObservation.retentionDays)
        var settings = try await store.enforcedTLS(userID: target.user.id)
        settings = try Self.proposed(
            settings, q["require_tls"].map(String.init), q["require_valid_cert"].map(String.init), q["version"].map(String.init))
        let entries = try await store.domainTLSEntries(userID: target.user.id)
        let window = TLSImpactReport.window(days: days, now: Int(Date().timeIntervalSince1970))
        let observations = try await store.tlsObservations(userID: target.user.id, sinceDay: window.firstDay)
        let report = TLSImpactReport.build(
            observations: observations, settings: settings, entries: entries, period: window.period, judge: judge.wouldBlock)
        return try JSONResponse.make(encoding: report)
    }

    @Sendable func check(_ request: Request, context: SealpostRequestContext) async throws -> Response {
        let principal = try context.require(scope: Scope.enforcedTLSRead)
        let target = try await tenants.target(request, principal: principal)
        let q = request.uri.queryParameters
        // A domain name only: never an address, `[IP]` or `host:port` (nothing is connected to
        // but the delivery port of hosts the domain's own DNS or a --route names).
        guard let raw = q["domain"].map(String.init), let domain = DomainTLSEntry.normalize(raw), !domain.hasPrefix(".") else {
            throw APIError.badRequest(field: "domain", "domain must be a domain name (not an IP address, [IP] or host:port)")
        }
        var settings = try await store.enforcedTLS(userID: target.user.id)
        settings = try Self.proposed(
            settings, q["require_tls"].map(String.init), q["require_valid_cert"].map(String.init), q["version"].map(String.init))
        let entries = try await store.domainTLSEntries(userID: target.user.id)
        let decision = limiter.take(bucket: "key:\(principal.key.id) check")
        guard decision.allowed else { throw APIError.tooManyRequests }
        let report = await checker.check(domain: domain, settings: settings, entries: entries)
        return try JSONResponse.make(encoding: report)
    }

    /// The current settings with the proposed values the query gives (absent: kept, as a PATCH).
    static func proposed(
        _ current: EnforcedTLSSettings, _ requireTLS: String?, _ requireValidCert: String?, _ version: String?
    ) throws
        -> EnforcedTLSSettings
    {
        var s = current
        func flag(_ raw: String?, _ name: String) throws -> Bool? {
            guard let raw else { return nil }
            switch raw {
            case "true": return true
            case "false": return false
            default: throw APIError.badRequest(field: name, "\(name) must be true or false")
            }
        }
        if let v = try flag(requireTLS, "require_tls") { s.requireTLS = v }
        if let v = try flag(requireValidCert, "require_valid_cert") { s.requireValidCert = v }
        if let version {
            guard let v = TLSVersion(rawValue: version) else {
                throw APIError.badRequest(field: "version", "version must be one of 1.1, 1.2 or 1.3")
            }
            s.version = v
        }
        return s
    }
}

/// No judge (router tests without the delivery target): nothing is reported as blocked.
public struct NoImpactJudge: TLSImpactJudging {
    public init() {}
    public func wouldBlock(_ observation: TLSObservation, settings: EnforcedTLSSettings, entries: [DomainTLSEntry]) -> TLSFailureDetail? {
        nil
    }
}

/// No checker (router tests without the delivery target): every check says why it cannot run.
public struct NoTLSChecker: TLSChecking {
    public init() {}
    public func check(domain: String, settings: EnforcedTLSSettings, entries: [DomainTLSEntry]) async -> TLSCheckReport {
        var report = TLSCheckReport(domain: domain, settings: settings, policies: .init(domainEntry: nil, dane: false, mtaSTS: nil))
        report.reason = "The check is not available in this server."
        return report
    }
}
