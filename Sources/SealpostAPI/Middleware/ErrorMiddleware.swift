import Hummingbird
import SealpostCore

/// Outermost safety net: whatever escapes a route (Hummingbird's own 404, a body that is too
/// large, an unexpected failure) is answered in SendGrid's error shape, never as an empty 500.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = SealpostRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            return APIError.from(error, logger: context.logger).response()
        }
    }
}
