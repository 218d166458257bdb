import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

@testable import SealpostAPI
@testable import SealpostCore
@testable import SealpostSQLite
@testable import SealpostStorage

/// Two parent accounts, each with a subuser and a customer account, and keys of several scopes:
/// the tenancy every API test runs against, on a real SQLite file.
struct World {
    let directory: URL
    let store: SQLiteStore
    let acme: User, acmeSub: User, acmeCust: User
    let globex: User, globexSub: User, globexCust: User
    /// Full-access keys.
    let acmeKey: String, acmeSubKey: String, acmeCustKey: String, globexKey: String
    let acmeReadOnly: String, acmeUpdateOnly: String, acmeNoScopes: String

    static func make() async throws -> World {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sealpost-api-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: dir.appendingPathComponent("db.sqlite").path)
        let acme = try await store.createAccount(name: "acme", email: nil)
        let acmeSub = try await store.createSubuser(parentID: acme.id, username: "acme-sub", email: "sub@acme.test")
        let acmeCust = try await store.createCustomer(parentID: acme.id, name: "acme-cust")
        let globex = try await store.createAccount(name: "globex", email: nil)
        let globexSub = try await store.createSubuser(parentID: globex.id, username: "globex-sub", email: nil)
        let globexCust = try await store.createCustomer(parentID: globex.id, name: "globex-cust")
        func key(_ user: User, _ grant: ScopeGrant) async throws -> String {
            try await store.issueKey(userID: user.id, name: "test", grant: grant).token.plaintext
        }
        return World(
            directory: dir, store: store,
            acme: acme, acmeSub: acmeSub, acmeCust: acmeCust, globex: globex, globexSub: globexSub, globexCust: globexCust,
            acmeKey: try await key(acme, .fullAccess), acmeSubKey: try await key(acmeSub, .fullAccess),
            acmeCustKey: try await key(acmeCust, .fullAccess), globexKey: try await key(globex, .fullAccess),
            acmeReadOnly: try await key(acme, .scopes([Scope.enforcedTLSRead])),
            acmeUpdateOnly: try await key(acme, .scopes([Scope.enforcedTLSUpdate])),
            acmeNoScopes: try await key(acme, .scopes([])))
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }

    /// `clock` pins the rate limiter's time, so tests that count requests never straddle a
    /// window boundary.
    func app(rateLimit: Int = 10_000, clock: (@Sendable () -> Int)? = nil) -> some ApplicationProtocol {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let limiter = clock.map { RateLimiter(limit: rateLimit, clock: $0) }
        return try! buildApplication(
            store: store, configuration: APIConfiguration(host: "127.0.0.1", port: 0, rateLimit: rateLimit), logger: logger,
            limiter: limiter)
    }
}

extension TestClientProtocol {
    /// One request; returns status, headers and the body as text.
    func call(
        _ method: HTTPRequest.Method, _ uri: String, key: String? = nil, onBehalfOf: String? = nil,
        body: String? = nil, headers extra: HTTPFields = [:]
    ) async throws -> (status: HTTPResponse.Status, headers: HTTPFields, body: String) {
        var headers = extra
        if let key { headers[.authorization] = "Bearer \(key)" }
        if let onBehalfOf { headers[HTTPField.Name("on-behalf-of")!] = onBehalfOf }
        if body != nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
            (response.status, response.headers, String(buffer: response.body))
        }
    }
}

let settingsPath = "/v3/user/settings/enforced_tls"
let unauthorizedBody = #"{"errors":[{"field":null,"message":"authorization required"}]}"#
let forbiddenBody = #"{"errors":[{"field":null,"message":"access forbidden"}]}"#
let defaultSettings = #"{"require_tls":false,"require_valid_cert":false,"version":1.1}"#

/// Parses an error body and returns its `(field, message)` pairs.
func errorItems(_ body: String) throws -> [(String?, String)] {
    let object = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
    let errors = try #require(object["errors"] as? [[String: Any]])
    return errors.map { ($0["field"] as? String, $0["message"] as? String ?? "") }
}
