import Foundation
import HTTPTypes
import Hummingbird

/// The web console at `/console/`: three static files built into the binary, served without
/// authentication (the page signs in with an API key and calls the API like any client). Every
/// answer under `/console`, its 404s included, carries the security headers: a CSP that allows
/// only this origin's script and style (no inline script at all), no framing, no sniffing, and
/// no referrer.
struct ConsoleRoutes {
    static let securityHeaders: [(HTTPField.Name, String)] = [
        (
            HTTPField.Name("Content-Security-Policy")!,
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
                + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        ),
        (HTTPField.Name("X-Content-Type-Options")!, "nosniff"),
        (HTTPField.Name("Referrer-Policy")!, "no-referrer"),
        (HTTPField.Name("X-Frame-Options")!, "DENY"),
        (HTTPField.Name("Cache-Control")!, "no-cache"),
    ]

    static func response(_ status: HTTPResponse.Status, type: String, body: String, extra: HTTPFields = [:]) -> Response {
        var headers = extra
        headers[.contentType] = type
        for (name, value) in securityHeaders { headers[name] = value }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    func register(on router: Router<SealpostRequestContext>, known: KnownPaths) {
        // The router treats `/console` and `/console/` as one path: the page's relative links
        // need the slash, so the bare name redirects to it.
        router.get("/console") { request, _ in
            guard request.uri.path.hasSuffix("/") else {
                return Self.response(
                    .movedPermanently, type: "text/plain; charset=utf-8", body: "/console/\n", extra: [.location: "/console/"])
            }
            return Self.response(.ok, type: ConsoleAssets.indexHTMLType, body: ConsoleAssets.indexHTML)
        }
        router.get("/console/console.js") { _, _ in Self.response(.ok, type: ConsoleAssets.scriptType, body: ConsoleAssets.script) }
        router.get("/console/console.css") { _, _ in
            Self.response(.ok, type: ConsoleAssets.styleSheetType, body: ConsoleAssets.styleSheet)
        }
        router.get("/console/**") { _, _ in
            Self.response(.notFound, type: "application/json", body: #"{"errors":[{"field":null,"message":"resource not found"}]}"#)
        }
        for path in ["/console", "/console/console.js", "/console/console.css"] {
            router.methodNotAllowed(path, allow: [.get], known: known)
        }
    }
}
