import Hummingbird
import SealpostCore

/// Added after every route, so it wraps only Hummingbird's not-found responder: a request for a
/// known path with a method it does not serve becomes 405 with `Allow`.
struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = SealpostRequestContext
    let known: KnownPaths

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            if let allow = known.allowed(for: request.uri.path) { throw APIError.methodNotAllowed(allow: allow) }
            throw error
        }
    }
}
