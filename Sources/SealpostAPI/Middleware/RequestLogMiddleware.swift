import Foundation
import Hummingbird
import Logging
import SealpostCore

/// One log line per request: method, path, status, duration and the key id.
///
/// Only the public key id is logged (never the header, never the secret), so logs can
/// be shared without leaking credentials. The query string is left out: it may hold addresses.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = SealpostRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        var status = 500
        func log() {
            let elapsed = ContinuousClock.now - started
            let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            var metadata: Logger.Metadata = [
                "method": "\(request.method.rawValue)",
                "path": "\(request.uri.path)",
                "status": "\(status)",
                "duration_ms": "\((ms * 100).rounded() / 100)",
            ]
            if let keyID = request.headers[.authorization].flatMap(Self.keyID) { metadata["key_id"] = "\(keyID)" }
            context.logger.info("request", metadata: metadata)
        }
        // Built only when it will be written: this runs on every request.
        defer { if context.logger.logLevel <= .info { log() } }
        let response = try await next(request, context)
        status = response.status.code
        return response
    }

    /// The middle part of `Bearer SG.<id>.<secret>`, if the header has that shape.
    static func keyID(_ header: String) -> Substring? {
        guard let token = AuthMiddleware.bearerToken(header) else { return nil }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "SG", parts[1].count <= 64 else { return nil }
        return parts[1]
    }
}
