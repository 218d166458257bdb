import Foundation
import Hummingbird
import Prometheus
import SealpostCore

/// Unauthenticated operational routes: liveness, metrics, the API description.
struct SystemRoutes {
    let registry: PrometheusCollectorRegistry

    func register(on router: Router<SealpostRequestContext>, known: KnownPaths) {
        // Also the "trivial route" the API benchmark compares authenticated routes against.
        router.get("/healthz") { _, _ in "ok\n" }
        router.get("/metrics") { _, _ -> Response in
            var buffer: [UInt8] = []
            buffer.reserveCapacity(4096)
            registry.emit(into: &buffer)
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
        router.get("/openapi.json") { _, _ in
            JSONResponse.make(json: OpenAPIDocument.rendered(now: Date()))
        }
        for path: RouterPath in ["/healthz", "/metrics", "/openapi.json"] {
            router.methodNotAllowed(path.description, allow: [.get], known: known)
        }
    }
}
