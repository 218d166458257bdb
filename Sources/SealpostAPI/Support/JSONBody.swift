import Foundation
import Hummingbird
import NIOCore
import SealpostCore

/// Reading JSON request bodies with a size bound and SendGrid-shaped errors.
enum JSONBody {
    /// Default bound for the small management bodies of this API.
    static let defaultLimit = 64 * 1024

    /// The body's bytes, `nil` when it is empty or only white space (a PATCH with no body
    /// changes nothing, as SendGrid's spec makes the body optional); 413 beyond `limit`.
    private static func bytes(_ request: Request, limit: Int) async throws -> Data? {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw APIError.contentTooLarge
        }
        let bytes = Data(buffer.readableBytesView)
        return bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) ? nil : bytes
    }

    /// The body decoded into its typed request `T` (whose fields capture wrong types, so only a
    /// body that is not JSON, or not an object, fails here); `nil` for an empty body.
    static func decode<T: Decodable>(_ type: T.Type, _ request: Request, limit: Int = defaultLimit) async throws -> T? {
        guard let bytes = try await bytes(request, limit: limit) else { return nil }
        do {
            return try JSONDecoder().decode(T.self, from: bytes)
        } catch DecodingError.typeMismatch(_, let context) where context.codingPath.isEmpty {
            throw APIError.badRequest(field: nil, "request body must be a JSON object")
        } catch DecodingError.valueNotFound(_, let context) where context.codingPath.isEmpty {
            throw APIError.badRequest(field: nil, "request body must be a JSON object")
        } catch {
            throw APIError.badRequest(field: nil, "request body is not valid JSON")
        }
    }
}
