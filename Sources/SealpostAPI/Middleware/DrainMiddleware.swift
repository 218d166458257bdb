import Hummingbird
import SealpostCore

/// During a graceful shutdown every request is answered 503, so clients retry elsewhere or
/// later instead of having mail accepted by a process that is going away.
struct DrainMiddleware: RouterMiddleware {
    typealias Context = SealpostRequestContext
    let gate: ShutdownGate

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if gate.isDraining {
            var response = APIError(.serviceUnavailable, message: "service unavailable: shutting down").response()
            response.headers[.retryAfter] = "5"
            response.headers[.connection] = "close"
            return response
        }
        return try await next(request, context)
    }
}
