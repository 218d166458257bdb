import Foundation
import Hummingbird
import SealpostCore
import SealpostStorage

/// SendGrid's `GET`/`PATCH /v3/user/webhooks/event/settings`, and `…/signed` (the signed
/// Event Webhook: its public key; the private key never leaves the store).
struct WebhookRoutes {
    static let path: RouterPath = "/v3/user/webhooks/event/settings"
    static let signedPath: RouterPath = "/v3/user/webhooks/event/settings/signed"
    let store: any SealpostStore
    let tenants: TenantResolver

    func register(on router: Router<SealpostRequestContext>, known: KnownPaths) {
        router.get(Self.path, use: get)
        router.patch(Self.path, use: patch)
        router.methodNotAllowed(Self.path.description, allow: [.get, .patch], known: known)
        router.get(Self.signedPath, use: getSigned)
        router.patch(Self.signedPath, use: patchSigned)
        router.methodNotAllowed(Self.signedPath.description, allow: [.get, .patch], known: known)
    }

    static func json(_ s: WebhookSettings) -> String {
        var parts = ["\"enabled\":\(s.enabled)", "\"url\":\(quote(s.url))"]
        for name in WebhookSettings.eventNames { parts.append("\"\(name)\":\(s.events[name] ?? false)") }
        return "{" + parts.joined(separator: ",") + "}"
    }

    static func quote(_ s: String) -> String {
        let data = (try? JSONSerialization.data(withJSONObject: [s], options: [.withoutEscapingSlashes])) ?? Data("[\"\"]".utf8)
        return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
    }

    @Sendable func get(_ request: Request, context: SealpostRequestContext) async throws -> Response {
        let principal = try context.require(scope: Scope.webhookRead)
        let target = try await tenants.target(request, principal: principal)
        return JSONResponse.make(json: Self.json(try await store.webhookSettings(userID: target.user.id)))
    }

    @Sendable func patch(_ request: Request, context: SealpostRequestContext) async throws -> Response {
        let principal = try context.require(scope: Scope.webhookUpdate)
        let target = try await tenants.target(request, principal: principal)
        let patch = try await JSONBody.decode(WebhookSettingsPatchBody.self, request) ?? WebhookSettingsPatchBody()
        let settings = try patch.applied(to: try await store.webhookSettings(userID: target.user.id))
        try await store.saveWebhookSettings(userID: target.user.id, settings)
        return JSONResponse.make(json: Self.json(settings))
    }

    /// `{"public_key": "<base64 DER>"}`, or `""` while signing is off (as SendGrid answers).
    static func signedJSON(_ key: [UInt8]?) -> String {
        "{\"public_key\":\(quote(key.flatMap(WebhookSigning.publicKey(of:)) ?? ""))}"
    }

    @Sendable func getSigned(_ request: Request, context: SealpostRequestContext) async throws -> Response {
        let principal = try context.require(scope: Scope.webhookRead)
        let target = try await tenants.target(request, principal: principal)
        return JSONResponse.make(json: Self.signedJSON(try await store.webhookSigningKey(userID: target.user.id)))
    }

    @Sendable func patchSigned(_ request: Request, context: SealpostRequestContext) async throws -> Response {
        let principal = try context.require(scope: Scope.webhookUpdate)
        let target = try await tenants.target(request, principal: principal)
        let body = try await JSONBody.decode(WebhookSigningPatchBody.self, request) ?? WebhookSigningPatchBody()
        if try body.validated() {
            let key = try await store.enableWebhookSigning(userID: target.user.id, candidate: WebhookSigning.newPrivateKey())
            return JSONResponse.make(json: Self.signedJSON(key))
        }
        try await store.disableWebhookSigning(userID: target.user.id)
        return JSONResponse.make(json: Self.signedJSON(nil))
    }
}
