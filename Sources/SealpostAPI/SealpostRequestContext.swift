import Hummingbird
import Metrics
import SealpostCore

/// The authenticated caller: the key that was presented and the user that owns it.
public struct Principal: Sendable {
    public var key: StoredAPIKey
    public var user: User
}

/// The one request context of the API.
public struct SealpostRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer's IP address: the rate-limit bucket of requests that carry no valid key.
    public let remoteIP: String?
    /// Set by `AuthMiddleware` when a valid, live key was presented.
    public var principal: Principal?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteIP = source.channel.remoteAddress?.ipAddress
        self.principal = nil
    }

    /// The caller, who must hold `scope`; otherwise 401 (no valid key) or 403 (missing scope).
    public func require(scope: String?) throws -> Principal {
        guard let principal else {
            Counter(label: "sealpost_api_auth_failures_total", dimensions: [("status", "401")]).increment()
            throw APIError.unauthorized
        }
        if let scope, !principal.key.grant.allows(scope) {
            Counter(label: "sealpost_api_auth_failures_total", dimensions: [("status", "403")]).increment()
            throw APIError.forbidden
        }
        return principal
    }
}
