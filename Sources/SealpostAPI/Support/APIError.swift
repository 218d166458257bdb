import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import SealpostCore
import SealpostStorage

/// An error answered in SendGrid's shape: `{"errors":[{"field":…,"message":…}]}`.
///
/// Every non-2xx answer of the API goes through this type, so clients written against
/// SendGrid (which read `errors[].message`) understand all of them.
public struct APIError: Error, HTTPResponseError, Equatable {
    public typealias Item = FieldError

    public var status: HTTPResponse.Status
    public var errors: [Item]
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, errors: [Item], headers: HTTPFields = [:]) {
        self.status = status
        self.errors = errors
        self.headers = headers
    }

    public init(_ status: HTTPResponse.Status, field: String? = nil, message: String) {
        self.init(status, errors: [Item(field: field, message: message)])
    }

    // The exact texts SendGrid's management endpoints answer with.
    public static let unauthorized = APIError(.unauthorized, message: "authorization required")
    public static let forbidden = APIError(.forbidden, message: "access forbidden")
    public static let notFound = APIError(.notFound, message: "resource not found")
    public static let contentTooLarge = APIError(.contentTooLarge, message: "content too large")
    public static let tooManyRequests = APIError(.tooManyRequests, message: "too many requests")
    /// The database cannot be used right now: nothing was done, retry.
    public static let storeUnavailable = APIError(
        .serviceUnavailable, errors: [Item(field: nil, message: "service unavailable: the database cannot be reached; retry shortly")],
        headers: [.retryAfter: "5"])
    public static let internalError = APIError(.internalServerError, message: "internal server error")

    public static func methodNotAllowed(allow: [HTTPRequest.Method]) -> APIError {
        var e = APIError(.methodNotAllowed, message: "method not allowed")
        e.headers[.allow] = allow.map(\.rawValue).joined(separator: ", ")
        return e
    }

    public static func badRequest(field: String?, _ message: String) -> APIError {
        APIError(.badRequest, field: field, message: message)
    }

    public var body: String {
        struct Body: Encodable { var errors: [Item] }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data =
            (try? encoder.encode(Body(errors: errors))) ?? Data(#"{"errors":[{"field":null,"message":"internal server error"}]}"#.utf8)
        return String(decoding: data, as: UTF8.self)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        response()
    }

    public func response() -> Response {
        var headers = self.headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// Maps anything a handler or Hummingbird may throw to the documented shape.
    /// Unknown errors become a logged 500 whose body reveals nothing internal.
    public static func from(_ error: any Error, logger: Logger) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let failure as ValidationFailure:
            return APIError(.badRequest, errors: failure.errors)
        case is NIOTooManyBytesError:
            return .contentTooLarge
        case let error where isStoreUnavailable(error):
            logger.error("request failed: the database is unavailable", metadata: ["error": "\(error)"])
            return .storeUnavailable
        case let error as any HTTPResponseError:
            switch error.status {
            case .notFound: return .notFound
            case .contentTooLarge: return .contentTooLarge
            case .unauthorized: return .unauthorized
            case .forbidden: return .forbidden
            case .methodNotAllowed: return .methodNotAllowed(allow: [])
            case .tooManyRequests: return .tooManyRequests
            default:
                if error.status.kind == .clientError {
                    return APIError(error.status, message: error.status.reasonPhrase.lowercased())
                }
                logger.error("request failed", metadata: ["error": "\(error)"])
                return .internalError
            }
        default:
            logger.error("request failed", metadata: ["error": "\(error)"])
            return .internalError
        }
    }
}
