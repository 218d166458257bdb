import Hummingbird
import SealpostCore

/// `GET /v3/scopes`: what the presented key may do. Needs a valid key, no particular scope.
struct ScopeRoutes {
    static let path: RouterPath = "/v3/scopes"

    func register(on router: Router<SealpostRequestContext>, known: KnownPaths) {
        router.get(Self.path) { _, context -> Response in
            struct Body: Encodable { var scopes: [String] }
            let principal = try context.require(scope: nil)
            return try JSONResponse.make(encoding: Body(scopes: principal.key.grant.listed))
        }
        router.methodNotAllowed(Self.path.description, allow: [.get], known: known)
    }
}
