import Foundation
import Hummingbird
import SealpostCore

/// JSON answers with a stable key order, so responses diff cleanly and match SendGrid's examples.
enum JSONResponse {
    static func make(_ status: HTTPResponse.Status = .ok, json: String, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: json)))
    }

    static func make(_ status: HTTPResponse.Status = .ok, encoding value: some Encodable) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return make(status, json: String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}
