import Logging
import NIOCore
import NIOSSL
import NIOTLS
import Synchronization

/// Idle limits of a submission session (RFC 5321 §4.5.3.2 server values). Tests shrink them.
public struct SubmissionTimeouts: Sendable {
    /// Waiting for the next command: "at least 5 minutes".
    public var command: TimeAmount = .minutes(5)
    /// Between chunks of a message after `354`: the DATA termination value, 10 minutes.
    public var data: TimeAmount = .minutes(10)

    public init() {}
}

/// Connections open on one listener, for the cap.
public final class SubmissionConnectionCounter: Sendable {
    public let limit: Int
    private let open = Atomic<Int>(0)

    public init(limit: Int) { self.limit = limit }

    /// True when one more connection fits; it is then counted until `release`.
    func acquire() -> Bool {
        let now = open.wrappingAdd(1, ordering: .relaxed).newValue
        if now > limit {
            open.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func release() { open.wrappingSubtract(1, ordering: .relaxed) }
    public var current: Int { open.load(ordering: .relaxed) }
}

/// One submission connection: feeds the bytes through `SMTPServerFramer` into
/// `SMTPServerStateMachine` and carries out its actions (replies, STARTTLS, backend calls).
/// Frames wait while the backend is asked, so pipelined commands are answered in order.
final class SubmissionSession: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var machine: SMTPServerStateMachine
    private var framer: SMTPServerFramer
    private let backend: any SubmissionBackend
    private let tlsContext: NIOSSLContext?
    private let timeouts: SubmissionTimeouts
    private let counter: SubmissionConnectionCounter
    private let logger: Logger
    private var context: ChannelHandlerContext?
    private var identity: SubmissionIdentity?
    private var counted = false
    private var awaitingHandshake = false
    private var idleTimer: Scheduled<Void>?
    private var readPaused = false
    /// The client's address, taken when it connects: NIO forgets it once the channel closes,
    /// and a pipelined message may be submitted after that.
    private var peer: String?
    private static let maxBufferedWhileWaiting = 256 * 1024

    init(
        configuration: SMTPServerStateMachine.Configuration, implicitTLS: Bool, tlsContext: NIOSSLContext?,
        backend: any SubmissionBackend, timeouts: SubmissionTimeouts, counter: SubmissionConnectionCounter, logger: Logger
    ) {
        self.machine = SMTPServerStateMachine(configuration: configuration, implicitTLS: implicitTLS)
        self.framer = SMTPServerFramer(maxMessageSize: configuration.maxMessageSize)
        self.backend = backend
        self.tlsContext = tlsContext
        self.timeouts = timeouts
        self.counter = counter
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleTimer?.cancel()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        guard counter.acquire() else {
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "421 4.7.0 Too many connections; try again later\r\n")))
                .whenComplete { [channel = context.channel] _ in channel.close(promise: nil) }
            return
        }
        counted = true
        peer = context.channel.remoteAddress?.ipAddress
        perform(machine.handle(.connected))
        context.flush()
        resetTimer()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if counted {
            counter.release()
            counted = false
        }
        idleTimer?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard counted else { return }
        let buffer = unwrapInboundIn(data)
        framer.feed(buffer.readableBytesView)
        resetTimer()
        pump()
        if !machine.acceptsFrames && framer.bufferedBytes > Self.maxBufferedWhileWaiting && !readPaused {
            readPaused = true
            context.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls, awaitingHandshake {
            awaitingHandshake = false
            perform(machine.handle(.tlsEstablished))
            pump()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A TLS handshake that fails, a reset: nothing more can be said on this connection.
        logger.debug("submission connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    /// Frames to the machine for as long as it takes them.
    private func pump() {
        while machine.acceptsFrames, !awaitingHandshake {
            framer.maxLineLength = machine.lineLimit
            guard let frame = framer.next() else { break }
            perform(machine.handle(.frame(frame)))
        }
        context?.flush()
    }

    private func perform(_ actions: [SMTPServerStateMachine.Action]) {
        guard let context else { return }
        for action in actions {
            switch action {
            case .reply(let text):
                context.write(wrapOutboundOut(ByteBuffer(string: text + "\r\n")), promise: nil)
            case .receiveMessage:
                framer.beginMessage()
            case .startTLS:
                context.flush()
                startTLS(context)
            case .close:
                idleTimer?.cancel()
                context.writeAndFlush(wrapOutboundOut(ByteBuffer())).whenComplete { [channel = context.channel] _ in
                    channel.close(promise: nil)
                }
            case .authenticate(let password):
                ask { backend in
                    switch await backend.authenticate(apiKey: password) {
                    case .accepted(let id):
                        return { session in
                            session.identity = id; return .authenticated
                        }
                    case .rejected: return { _ in .authenticationFailed }
                    case .unavailable: return { _ in .authenticationUnavailable }
                    }
                }
            case .authorize:
                // In memory (the rate limit): answered here, with no hop off the event loop.
                let answer: SMTPServerStateMachine.Event
                if let identity {
                    switch backend.admit(identity) {
                    case .allowed: answer = .authorized
                    case .refused(let reply, let signedOut):
                        if signedOut { self.identity = nil }
                        answer = .refused(reply: reply, signedOut: signedOut)
                    }
                } else {
                    answer = .refused(reply: "530 5.7.0 Authentication required", signedOut: true)
                }
                perform(machine.handle(answer))
            case .submit(let envelope):
                guard let identity else {
                    perform(machine.handle(.submitFailed(reply: "530 5.7.0 Authentication required")))
                    continue
                }
                let peer = self.peer
                ask { backend in
                    let result = await backend.submit(envelope, from: identity, peer: peer)
                    return { session in
                        switch result {
                        case .queued(let id): return .submitted(queueID: id)
                        case .failed(let reply): return .submitFailed(reply: reply)
                        case .signedOut(let reply):
                            session.identity = nil
                            return .submitFailed(reply: reply, signedOut: true)
                        }
                    }
                }
            }
        }
    }

    /// Runs a backend call off the event loop, then feeds its answer back on it.
    private func ask(
        _ call: @escaping @Sendable (any SubmissionBackend) async -> @Sendable (SubmissionSession) -> SMTPServerStateMachine.Event
    ) {
        guard let context else { return }
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let backend = self.backend
        Task {
            let finish = await call(backend)
            bound.eventLoop.execute {
                let session = bound.value
                session.perform(session.machine.handle(finish(session)))
                session.resumeReading()
                session.resetTimer()
                session.pump()
            }
        }
    }

    private func resumeReading() {
        guard readPaused, let context else { return }
        readPaused = false
        context.channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
    }

    /// RFC 3207: plaintext the client sent after STARTTLS and before the handshake is
    /// discarded, never read as commands (the CVE-2011-0411 injection).
    private func startTLS(_ context: ChannelHandlerContext) {
        guard let tlsContext else { return }
        if framer.bufferedBytes > 0 {
            logger.notice("plaintext after STARTTLS discarded", metadata: ["bytes": "\(framer.bufferedBytes)"])
            framer.discardBuffered()
        }
        awaitingHandshake = true
        do {
            try context.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tlsContext), position: .first)
        } catch {
            context.close(promise: nil)
        }
    }

    private func resetTimer() {
        guard let context else { return }
        idleTimer?.cancel()
        let limit = machine.inData ? timeouts.data : timeouts.command
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        idleTimer = context.eventLoop.scheduleTask(in: limit) {
            let session = bound.value
            session.perform(session.machine.handle(.timeout))
            session.context?.flush()
        }
    }
}

extension SMTPServerStateMachine {
    var inData: Bool { phase == .data }
}
