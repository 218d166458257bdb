import Hummingbird
import SealpostCore
import Synchronization

/// The paths the API serves and the methods each allows, so that a known path asked with
/// another method — any method, including ones invented later — gets 405 with `Allow`
/// instead of Hummingbird's 404, which would wrongly say the path does not exist.
final class KnownPaths: Sendable {
    private let entries = Mutex<[(segments: [Substring], allow: [HTTPRequest.Method])]>([])

    func add(_ path: String, allow: [HTTPRequest.Method]) {
        let segments = path.split(separator: "/")
        entries.withLock { $0.append((segments, allow)) }
    }

    /// The allowed methods of the first pattern matching `path` (`:name` or `{name}` matches any segment).
    func allowed(for path: String) -> [HTTPRequest.Method]? {
        let segments = path.split(separator: "/")
        return entries.withLock { entries in
            entries.first { entry in
                entry.segments.count == segments.count
                    && zip(entry.segments, segments).allSatisfy { $0.hasPrefix(":") || $0.hasPrefix("{") || $0 == $1 }
            }?.allow
        }
    }
}

extension Router where Context == SealpostRequestContext {
    func methodNotAllowed(_ path: String, allow: [HTTPRequest.Method], known: KnownPaths) {
        known.add(path, allow: allow)
    }
}
