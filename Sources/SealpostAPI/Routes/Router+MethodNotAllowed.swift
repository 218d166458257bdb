import Hummingbird

extension Router where Context == SealpostRequestContext {
    /// Answers 405 with an `Allow` header for the methods a resource does not support.
    /// Without it Hummingbird would answer 404, which wrongly tells clients the path is unknown.
    func methodNotAllowed(_ path: RouterPath, allow: [HTTPRequest.Method]) {
        let all: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete]
        for method in all where !allow.contains(method) {
            on(path, method: method) { _, _ -> Response in throw APIError.methodNotAllowed(allow: allow) }
        }
    }
}
