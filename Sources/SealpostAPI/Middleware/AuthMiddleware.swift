import Hummingbird
import SealpostCore
import SealpostStorage

/// Resolves `Authorization: Bearer SG.…` to a `Principal`, or leaves it unset.
///
/// It never rejects by itself: routes decide which scope they need, and the rate limiter
/// needs to know who is asking before any 401 is answered.
struct AuthMiddleware: RouterMiddleware {
    typealias Context = SealpostRequestContext
    let store: any SealpostStore

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try await store.consistentReads {
            var context = context
            context.principal = try await authenticate(request.headers[.authorization])
            return try await next(request, context)
        }
    }

    func authenticate(_ header: String?) async throws -> Principal? {
        guard let header, let token = Self.bearerToken(header) else { return nil }
        return try await KeyAuthenticator(store: store).authenticate(token).map { Principal(key: $0.0, user: $0.1) }
    }

    /// `Bearer <token>`, with the scheme matched case-insensitively (RFC 9110 §11.1).
    static func bearerToken(_ header: String) -> Substring? {
        let trimmed = header.drop(while: { $0 == " " })
        guard trimmed.count > 7, trimmed.prefix(7).lowercased() == "bearer " else { return nil }
        let token = trimmed.dropFirst(7).drop(while: { $0 == " " })
        return token.isEmpty ? nil : token
    }
}
