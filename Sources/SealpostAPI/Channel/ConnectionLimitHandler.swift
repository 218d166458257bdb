import HTTPTypes
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTPTypes
import SealpostCore

/// Counts open API connections across the server. A connection over `limit` is still
/// accepted, but its first request gets a 503 in SendGrid's shape with `Retry-After` and the
/// connection is closed, so a client learns why instead of hanging in the listen backlog.
/// (Hummingbird's accept backpressure stays in place at a higher bound, for floods.)
final class ConnectionLimitHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    /// Shared by every connection of one server.
    final class Counter: Sendable {
        let limit: Int
        private let open = NIOLockedValueBox(0)

        init(limit: Int) { self.limit = limit }

        /// Registers a connection; false (and not counted) when it is one too many, so that
        /// refused connections, lingering while they are answered, never block admitted ones.
        func enter() -> Bool {
            open.withLockedValue { open in
                guard open < limit else { return false }
                open += 1
                return true
            }
        }
        func leave() { open.withLockedValue { $0 -= 1 } }
        var current: Int { open.withLockedValue { $0 } }
    }

    private let counter: Counter
    private var admitted = true
    private var counted = false
    private var refused = false

    init(counter: Counter) { self.counter = counter }

    func handlerAdded(context: ChannelHandlerContext) {
        admitted = counter.enter()
        counted = admitted
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if counted { counter.leave() }
        counted = false
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if admitted {
            context.fireChannelRead(data)
            return
        }
        guard !refused, case .head = unwrapInboundIn(data) else { return }
        refused = true
        var error = APIError(.serviceUnavailable, message: "too many connections; retry shortly")
        error.headers[.retryAfter] = "1"
        ErrorResponseWriter.writeAndClose(error, context: context, wrap: wrapOutboundOut)
    }
}
