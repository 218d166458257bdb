import Foundation
import Hummingbird
import SealpostCore
import SealpostStorage

/// SendGrid's `GET`/`PATCH /v3/user/webhooks/event/settings`.
struct WebhookRoutes {
    static let path: RouterPath = "/v3/user/webhooks/event/settings"
    let store: any SealpostStore
    let tenants: TenantResolver

    func register(on router: Router<SealpostRequestContext>, known: KnownPaths) {
        router.get(Self.path, use: get)
        router.patch(Self.path, use: patch)
        router.methodNotAllowed(Self.path.description, allow: [.get, .patch], known: known)
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
}
