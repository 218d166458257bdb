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
        let body = try await JSONBody.jsonObject(request) ?? [:]
        var settings = try await store.webhookSettings(userID: target.user.id)
        var errors: [APIError.Item] = []
        for (key, value) in body {
            switch key {
            case "enabled":
                if case .bool(let b) = value {
                    settings.enabled = b
                } else {
                    errors.append(.init(field: key, message: "enabled must be a boolean"))
                }
            case "url":
                if case .string(let u) = value, u.isEmpty || Self.isHTTPURL(u) {
                    settings.url = u
                } else {
                    errors.append(.init(field: key, message: "url must be an http or https URL"))
                }
            default:
                guard WebhookSettings.eventNames.contains(key) else { continue }  // unknown fields are ignored
                if case .bool(let b) = value {
                    settings.events[key] = b
                } else {
                    errors.append(.init(field: key, message: "\(key) must be a boolean"))
                }
            }
        }
        if settings.enabled && settings.url.isEmpty { errors.append(.init(field: "url", message: "an enabled webhook needs a url")) }
        if !errors.isEmpty { throw APIError(.badRequest, errors: errors.sorted { ($0.field ?? "") < ($1.field ?? "") }) }
        try await store.saveWebhookSettings(userID: target.user.id, settings)
        return JSONResponse.make(json: Self.json(settings))
    }

    static func isHTTPURL(_ s: String) -> Bool {
        guard let url = URL(string: s), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme), url.host != nil else {
            return false
        }
        return true
    }
}
