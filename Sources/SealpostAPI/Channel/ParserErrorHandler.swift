import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import SealpostCore

/// Answers a request the HTTP parser rejected (oversized header fields, malformed request
/// line) in SendGrid's error shape instead of Hummingbird's empty 400, then closes the
/// connection: after a parse error the byte stream cannot be trusted for another request.
final class ParserErrorHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    private var answered = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        guard !answered else { return }
        answered = true
        let error: APIError =
            switch parserError {
            case .headerOverflow:
                APIError(.init(code: 431, reasonPhrase: "Request Header Fields Too Large"), message: "request header fields too large")
            default:
                APIError(.badRequest, message: "malformed HTTP request")
            }
        ErrorResponseWriter.writeAndClose(error, context: context, wrap: wrapOutboundOut)
    }
}

/// Writes a complete `APIError` response on a raw channel and closes it; for answers given
/// below the router (parser errors, connection limit).
///
/// The close lingers: output is shut first and the rest of the request is read and dropped
/// for up to `linger`, because closing a socket with unread input makes the kernel send a
/// reset, and a reset can destroy the answer before the client has read it.
enum ErrorResponseWriter {
    static let linger = TimeAmount.seconds(2)

    static func writeAndClose(_ error: APIError, context: ChannelHandlerContext, wrap: (HTTPResponsePart) -> NIOAny) {
        let body = ByteBuffer(string: error.body)
        var fields = error.headers
        fields[.contentType] = "application/json"
        fields[.contentLength] = String(body.readableBytes)
        fields[.connection] = "close"
        context.write(wrap(.head(HTTPResponse(status: error.status, headerFields: fields))), promise: nil)
        context.write(wrap(.body(body)), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrap(.end(nil))).whenComplete { _ in
            channel.close(mode: .output, promise: nil)
            channel.eventLoop.scheduleTask(in: linger) { channel.close(promise: nil) }
        }
    }
}
