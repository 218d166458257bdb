import NIOCore
import NIOSSL
import NIOTLS
import SealpostCore
import Synchronization

public enum SMTPClientError: Error, Equatable, CustomStringConvertible {
    case lineTooLong
    case timeout(String)
    case connectionClosed
    /// Plaintext arrived after the server's `220` to STARTTLS and before TLS (a response
    /// injection attempt, CVE-2011-0411 class), and then the handshake failed: the connection
    /// is abandoned and never retried in plaintext.
    case startTLSInjection
    case unexpectedReply(String)

    public var description: String {
        switch self {
        case .lineTooLong: "reply line too long"
        case .timeout(let phase): "timed out waiting for \(phase)"
        case .connectionClosed: "connection closed by the server"
        case .startTLSInjection: "plaintext injected after STARTTLS"
        case .unexpectedReply(let reply): "unexpected reply: \(reply)"
        }
    }
}

/// Line framing: bytes in, lines (without CRLF) out. Lines longer than `maxLineLength` end
/// the connection, so a server cannot make us buffer without bound.
final class SMTPLineFramer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = String
    static let maxLineLength = 4096
    private var buffer = ByteBuffer()

    /// True when part of a line is buffered: must be false when TLS starts (RFC 3207 §4.2).
    var hasBufferedBytes: Bool { buffer.readableBytes > 0 }

    /// Drops a partial line (plaintext injected after STARTTLS's `220`); true if there was one.
    func discardBuffered() -> Bool {
        defer { buffer.clear() }
        return buffer.readableBytes > 0
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        buffer.writeBuffer(&incoming)
        while let lf = buffer.readableBytesView.firstIndex(of: 0x0A) {
            let length = lf - buffer.readerIndex
            var line = buffer.readString(length: length) ?? ""
            buffer.moveReaderIndex(forwardBy: 1)
            if line.hasSuffix("\r") { line.removeLast() }
            context.fireChannelRead(wrapInboundOut(line))
        }
        if buffer.readableBytes > Self.maxLineLength {
            buffer.clear()
            context.fireErrorCaught(SMTPClientError.lineTooLong)
            context.close(promise: nil)
            return
        }
        buffer.discardReadBytes()
    }
}

/// SMTP replies from lines, and the STARTTLS guard: after the `220` that answers STARTTLS
/// nothing may arrive in plaintext. What does (a response injection, CVE-2011-0411 class) is
/// discarded unread, as Postfix does: the handshake goes ahead and the conversation restarts
/// over TLS, so the injected replies can never be taken for answers.
final class SMTPReplyDecoder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = String
    typealias InboundOut = SMTPReply
    private var parser = SMTPReplyParser()
    /// Survives the channel: the session reads it after the connection was torn down.
    let injectionFlag: InjectionFlag

    init(injectionFlag: InjectionFlag) { self.injectionFlag = injectionFlag }
    /// Set just before STARTTLS is written.
    var awaitingStartTLSReply = false
    /// Set once the 220 arrived; cleared when TLS is in place.
    var sealed = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let line = unwrapInboundIn(data)
        if sealed {
            injectionFlag.raise()
            return
        }
        do {
            guard let reply = try parser.feed(line) else { return }
            if awaitingStartTLSReply {
                awaitingStartTLSReply = false
                sealed = reply.code == 220
            }
            context.fireChannelRead(wrapInboundOut(reply))
        } catch {
            context.fireErrorCaught(error)
            context.close(promise: nil)
        }
    }
}

/// Completes a promise when the TLS handshake finishes or fails.
final class HandshakeWaiter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    private let promise: EventLoopPromise<Void>

    init(promise: EventLoopPromise<Void>) { self.promise = promise }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) { context.fireChannelRead(data) }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event as? TLSUserEvent ?? .shutdownCompleted {
            promise.succeed(())
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(SMTPClientError.connectionClosed)
        context.fireChannelInactive()
    }
}

/// Set when plaintext followed the `220` to STARTTLS (and was discarded).
final class InjectionFlag: Sendable {
    private let value = Atomic<Bool>(false)
    func raise() { value.store(true, ordering: .relaxed) }
    var isRaised: Bool { value.load(ordering: .relaxed) }
}
