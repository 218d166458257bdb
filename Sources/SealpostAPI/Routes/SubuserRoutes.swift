import Hummingbird
import SealpostCore
import SealpostStorage

/// `POST` and `GET /v3/subusers`: the fields SendGrid's official libraries send and read.
///
/// A password is accepted (the libraries send one) but Sealpost has no password logins, so it
/// is neither stored nor echoed. Only parent accounts may have subusers.
struct SubuserRoutes {
    static let path: RouterPath = "/v3/subusers"
    static let maxPage = 500
    let store: any SealpostStore

    func register(on router: Router<SealpostRequestContext>, known: KnownPaths) {
        router.post(Self.path, use: create)
        router.get(Self.path, use: list)
        router.methodNotAllowed(Self.path.description, allow: [.get, .post], known: known)
    }

    struct Created: Encodable {
        struct Credit: Encodable { var type = "unlimited" }
        var username: String
        var user_id: Int64
        var email: String
        var credit_allocation = Credit()
    }

    struct Listed: Encodable {
        var id: Int64
        var username: String
        var email: String
        var disabled = false
    }

    @Sendable func create(_ request: Request, context: SealpostRequestContext) async throws -> Response {
        let principal = try context.require(scope: Scope.subusersCreate)
        guard principal.user.kind == .account else { throw APIError.forbidden }
        let (username, email) = try (try await JSONBody.decode(CreateSubuserBody.self, request) ?? CreateSubuserBody()).validated()
        let user: User
        do {
            user = try await store.createSubuser(parentID: principal.user.id, username: username, email: email)
        } catch StoreError.nameTaken {
            throw APIError(.conflict, field: "username", message: "username exists")
        }
        return try JSONResponse.make(.created, encoding: Created(username: user.name, user_id: user.id, email: email))
    }

    @Sendable func list(_ request: Request, context: SealpostRequestContext) async throws -> Response {
        let principal = try context.require(scope: Scope.subusersRead)
        guard principal.user.kind == .account else { throw APIError.forbidden }
        let query = request.uri.queryParameters
        let limit = try Self.intParameter(query["limit"].map(String.init), name: "limit", default: 100, range: 1...Self.maxPage)
        let offset = try Self.intParameter(query["offset"].map(String.init), name: "offset", default: 0, range: 0...Int(Int32.max))
        let users = try await store.subusers(
            parentID: principal.user.id, username: query["username"].map(String.init), limit: limit, offset: offset)
        return try JSONResponse.make(encoding: users.map { Listed(id: $0.id, username: $0.name, email: $0.email ?? "") })
    }

    static func intParameter(_ raw: String?, name: String, default value: Int, range: ClosedRange<Int>) throws -> Int {
        guard let raw else { return value }
        guard let n = Int(raw), range.contains(n) else {
            throw APIError.badRequest(field: name, "\(name) must be an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return n
    }
}
