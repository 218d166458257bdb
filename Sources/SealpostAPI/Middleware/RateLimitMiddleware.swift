import Foundation
import HTTPTypes
import Hummingbird
import SealpostCore

/// Applies the per-key, per-endpoint limit and puts SendGrid's `X-RateLimit-*` headers on
/// every answer of the group, errors included.
struct RateLimitMiddleware: RouterMiddleware {
    typealias Context = SealpostRequestContext
    let limiter: RateLimiter

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // Callers without a valid key share their IP's bucket, so guessing keys is limited too.
        let caller = context.principal.map { "key:\($0.key.id)" } ?? "ip:\(context.remoteIP ?? "unknown")"
        let bucket = "\(caller) \(context.endpointPath ?? request.uri.path)"
        let decision = limiter.take(bucket: bucket)
        var response: Response
        if !decision.allowed {
            response = APIError.tooManyRequests.response()
        } else {
            do {
                response = try await next(request, context)
            } catch {
                response = APIError.from(error, logger: context.logger).response()
            }
        }
        response.headers[.xRateLimitLimit] = String(decision.limit)
        response.headers[.xRateLimitRemaining] = String(decision.remaining)
        response.headers[.xRateLimitReset] = String(decision.reset)
        return response
    }
}

extension HTTPField.Name {
    static let xRateLimitLimit = Self("X-RateLimit-Limit")!
    static let xRateLimitRemaining = Self("X-RateLimit-Remaining")!
    static let xRateLimitReset = Self("X-RateLimit-Reset")!
    static let onBehalfOf = Self("on-behalf-of")!
}
