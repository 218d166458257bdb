import Foundation
import Hummingbird
import NIOCore
import SealpostCore

/// Reading JSON request bodies with a size bound and SendGrid-shaped errors.
enum JSONBody {
    /// Default bound for the small management bodies of this API.
    static let defaultLimit = 64 * 1024

    /// The body as a JSON object, or `nil` when the body is empty (a PATCH with no body
    /// changes nothing, as SendGrid's spec makes the body optional).
    /// The body's bytes, `nil` when it is empty or only white space; 413 beyond `limit`.
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

    static func jsonObject(_ request: Request, limit: Int = defaultLimit) async throws -> [String: JSONValue]? {
        guard let bytes = try await bytes(request, limit: limit) else { return nil }
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: bytes)
        } catch {
            throw APIError.badRequest(field: nil, "request body is not valid JSON")
        }
        guard case .object(let object) = value else {
            throw APIError.badRequest(field: nil, "request body must be a JSON object")
        }
        return object
    }

    /// The body decoded as `T`, with the same errors as `jsonObject`; `nil` for an empty body.
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
