import Logging
import NIOCore
import NIOSSL
import SealpostCore

/// Carries out `SMTPClientStateMachine`'s actions on the connection's event loop: commands
/// are written and replies fed to the machine where they arrive, without leaving the loop.
///
/// The earlier driver was an async task reading an `NIOAsyncChannel`: every reply and every
/// write crossed between the event loop and the task pool, about fourteen thread switches per
/// delivered message, which made the kernel's context switching the largest cost of a
/// delivery. Here only what must leave the loop does: a message's outcome (handed to
/// `onMessage`; the next message's final `.` waits until it is stored), and the
/// certificate's judgement after STARTTLS (async, once per session).
///
/// Every decision stays the machine's; this type has no protocol logic of its own.
final class SMTPConversationHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = SMTPReply
    typealias OutboundOut = ByteBuffer

    /// What the handshake learnt, judged off the loop: the certificate's verdict and DANE.
    typealias JudgeTLS = @Sendable (_ version: SealpostCore.TLSVersion?, _ chain: [[UInt8]]) async -> TLSFacts

    private var machine: SMTPClientStateMachine
    private let timeouts: SMTPTimeouts
    private let host: String
    private let injection: InjectionFlag
    private let onMessage: SMTPDeliveryClient.MessageDone?
    private let judgeTLS: JudgeTLS
    private let logger: Logger
    let result: EventLoopPromise<SMTPDeliveryClient.Attempt>

    private var context: ChannelHandlerContext?
    /// Actions not carried out yet, in order.
    private var queue: [SMTPClientStateMachine.Action] = []
    /// Replies that arrived while the session waited for something else (a store, TLS).
    private var replies: [SMTPReply] = []
    /// The reply being waited for, with its deadline.
    private var awaiting: SMTPClientStateMachine.Phase?
    private var timer: Scheduled<Void>?
    private var timedOut: String?
    /// Waiting for the TLS handshake, a writable socket, or earlier outcomes to be stored.
    private var suspended = false
    /// Outcomes handed to `onMessage` whose future has not completed: the next message's final
    /// `.` waits for them (see `writeData`).
    private var unstored = 0
    private var heldForStore = false
    /// A large message being written in slices as the socket drains.
    private var pendingData: (bytes: [UInt8], offset: Int)?
    /// What is written until the next flush, gathered in one buffer: one write, and under
    /// TLS one record, so a server that reads a record at a time sees a message's end and the
    /// next envelope together (replying to them in one packet, not two that Nagle's algorithm
    /// and a delayed ACK hold up for 40 ms).
    private var outbound: ByteBuffer?
    private var needsFlush = false
    private var finished = false
    private let endpoints: SessionEndpoints?
    /// The certificates the server presented (kept with the connection: DANE is matched
    /// again for every session that reuses it).
    private var presentedChain: [[UInt8]]
    /// Set by `.keepOpen`: the session ends without QUIT and the connection is handed back.
    private var kept: SMTPClientStateMachine.Resumption?
    private let keptIdle: TimeAmount

    static let slice = 64 * 1024

    init(
        machine: SMTPClientStateMachine, timeouts: SMTPTimeouts, host: String, injection: InjectionFlag,
        onMessage: SMTPDeliveryClient.MessageDone?, judgeTLS: @escaping JudgeTLS, logger: Logger,
        result: EventLoopPromise<SMTPDeliveryClient.Attempt>, endpoints: SessionEndpoints? = nil, chain: [[UInt8]] = [],
        keptIdle: TimeAmount = .seconds(2)
    ) {
        self.endpoints = endpoints
        self.presentedChain = chain
        self.keptIdle = keptIdle
        self.machine = machine
        self.timeouts = timeouts
        self.host = host
        self.injection = injection
        self.onMessage = onMessage
        self.judgeTLS = judgeTLS
        self.logger = logger
        self.result = result
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { begin() }
    }

    func channelActive(context: ChannelHandlerContext) {
        begin()
        context.fireChannelActive()
    }

    private var begun = false
    private func begin() {
        guard !begun else { return }
        begun = true
        // Read here, on the active channel: once the session has ended and the channel is
        // closed, NIO answers `nil` for both, and a refusal can end it before the waiting task
        // runs again.
        endpoints?.set(local: context?.channel.localAddress?.ipAddress, remote: context?.channel.remoteAddress?.ipAddress)
        queue = machine.start()
        run()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !finished else { return }
        replies.append(unwrapInboundIn(data))
        run()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if pendingData != nil && context.channel.isWritable {
            suspended = false
            run()
        }
        context.fireChannelWritabilityChanged()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failed(SMTPDeliveryClient.describe(error))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failed(timedOut.map { SMTPClientError.timeout($0).description } ?? SMTPClientError.connectionClosed.description)
        // Whatever happened, the caller gets an answer (the machine has ended by now).
        result.succeed(.done(.unreachable(SMTPClientError.connectionClosed.description)))
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        result.succeed(.done(.unreachable(SMTPClientError.connectionClosed.description)))
        self.context = nil
    }

    /// The connection broke, or a read timed out: the machine decides what that means.
    private func failed(_ reason: String) {
        guard !finished else { return }
        cancelTimer()
        awaiting = nil
        suspended = false
        heldForStore = false
        pendingData = nil
        outbound = nil
        replies = []
        queue = machine.connectionFailed(reason)
        run()
    }

    // MARK: Carrying out actions

    /// Carries out actions until the session must wait (a reply, a store, TLS, the socket) or ends.
    private func run() {
        guard let context else { return }
        while !finished && !suspended {
            if awaiting != nil {
                guard !replies.isEmpty else { break }
                cancelTimer()
                awaiting = nil
                queue += machine.replied(replies.removeFirst())
                continue
            }
            if pendingData != nil {
                writeData(context)
                continue
            }
            guard !queue.isEmpty else {
                // Every step ends in a read, a handshake or the end; anything else would stall.
                queue = [.finish(.outcome(.unreachable("the SMTP conversation stalled")))]
                continue
            }
            carryOut(queue.removeFirst(), context)
        }
        flushIfNeeded(context)
    }

    private func carryOut(_ action: SMTPClientStateMachine.Action, _ context: ChannelHandlerContext) {
        switch action {
        case .send(let line):
            // Nothing may follow the 220 to STARTTLS in plaintext: the decoder guards from here on.
            if line == "STARTTLS" {
                try? context.pipeline.syncOperations.handler(type: SMTPReplyDecoder.self).awaitingStartTLSReply = true
            }
            write(line + "\r\n", context)
        case .sendPipelined(let lines):
            write(lines.joined(separator: "\r\n") + "\r\n", context)
        case .sendData(let bytes):
            pendingData = (bytes, 0)
        case .awaitReply(let phase):
            awaiting = phase
            flushIfNeeded(context)
            armTimer(timeouts.limit(for: phase), phase.description, context)
        case .startTLS:
            flushIfNeeded(context)
            startTLS(context)
        case .messageDone(let index, let results, let tls):
            guard let wait = onMessage?(index, results, tls, context.eventLoop) else { return }
            unstored += 1
            let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
            wait.hop(to: context.eventLoop).whenComplete { _ in bound.value.stored() }
        case .keepOpen(let resumption):
            kept = resumption
        case .finish(let end):
            finished = true
            cancelTimer()
            flushIfNeeded(context)
            switch end {
            case .retryWithoutTLS: result.succeed(.retryWithoutTLS)
            case .stale: result.succeed(.stale)
            case .outcome(let outcome):
                if let kept, context.channel.isActive {
                    // The connection outlives this session: a watcher takes over until the
                    // next session to this host replaces it (or the idle time closes it).
                    let pipeline = context.pipeline.syncOperations
                    if (try? pipeline.addHandler(KeptConnectionWatcher(idle: keptIdle))) != nil {
                        result.succeed(.kept(outcome, KeptConnection(resumption: kept, chain: presentedChain)))
                        pipeline.removeHandler(context: context, promise: nil)
                        return
                    }
                }
                result.succeed(.done(outcome))
            }
            context.close(promise: nil)
        }
    }

    private func write(_ text: String, _ context: ChannelHandlerContext) {
        if outbound == nil { outbound = context.channel.allocator.buffer(capacity: max(text.utf8.count, 1024)) }
        outbound!.writeString(text)
        needsFlush = true
    }

    /// Hands what was gathered to the channel (not yet flushed).
    private func pushOutbound(_ context: ChannelHandlerContext) {
        guard let buffer = outbound else { return }
        outbound = nil
        context.write(wrapOutboundOut(buffer), promise: nil)
    }

    /// An outcome handed over earlier is stored: a `.` held back for it may go.
    private func stored() {
        unstored -= 1
        guard unstored == 0, heldForStore, !finished else { return }
        heldForStore = false
        suspended = false
        run()
    }

    static let terminator = Array(".\r\n".utf8)

    /// Writes the message in slices while the socket takes them, so a large message is never
    /// copied whole into the channel's buffers; waits for writability in between.
    ///
    /// The final `.` that makes the server take the message is written only once the outcomes
    /// of this session's earlier messages are stored: what comes before it (MAIL, RCPT and
    /// DATA, pipelined after the previous `.`, and a large body) goes out while the last commit
    /// is under way, so a session does not stop for the disk, and yet at most one message per
    /// session (the one whose `.` was written) is in doubt after a crash. A body of one slice
    /// waits whole instead: it then leaves with its `.` and the next envelope in one write.
    private func writeData(_ context: ChannelHandlerContext) {
        guard var data = pendingData else { return }
        let terminated = data.bytes.count >= 3 && data.bytes[(data.bytes.count - 3)...].elementsEqual(Self.terminator)
        let holdBack =
            unstored > 0 && terminated ? (data.offset == 0 && data.bytes.count <= Self.slice ? data.bytes.count : 3) : 0
        let upTo = data.bytes.count - holdBack
        if data.offset >= upTo && holdBack > 0 {
            pendingData = data
            flushIfNeeded(context)
            heldForStore = true
            suspended = true
            return
        }
        while data.offset < upTo {
            let end = min(data.offset + Self.slice, upTo)
            if outbound == nil { outbound = context.channel.allocator.buffer(capacity: end - data.offset + 256) }
            outbound!.writeBytes(data.bytes[data.offset..<end])
            needsFlush = true
            data.offset = end
            // A slice with more to come goes to the channel now, for its backpressure; the
            // last one waits for what follows it (the next envelope) to share its write.
            if data.offset < upTo { pushOutbound(context) }
            if data.offset < upTo && !context.channel.isWritable {
                pendingData = data
                flushIfNeeded(context)
                // The flush may have drained the socket already.
                if context.channel.isWritable { continue }
                suspended = true
                return
            }
        }
        if holdBack > 0 {
            pendingData = data  // the `.` waits for `stored()`
            return
        }
        pendingData = nil
    }

    private func flushIfNeeded(_ context: ChannelHandlerContext) {
        guard needsFlush else { return }
        needsFlush = false
        pushOutbound(context)
        context.flush()
    }

    private func armTimer(_ limit: TimeAmount, _ phase: String, _ context: ChannelHandlerContext) {
        cancelTimer()
        let channel = context.channel
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: limit) {
            bound.value.timedOut = phase
            channel.close(promise: nil)
        }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
    }

    // MARK: STARTTLS

    /// Puts TLS under the line framer and waits for the handshake. Plaintext already received
    /// after the `220` (an injection) is discarded, never parsed (see `SMTPReplyDecoder`).
    private func startTLS(_ context: ChannelHandlerContext) {
        suspended = true
        let chain = ChainBox()
        let handshake = context.eventLoop.makePromise(of: Void.self)
        do {
            let tlsContext = try ClientTLSContext.shared.get()
            let sni = host.isIPAddress ? nil : host
            let pipeline = context.pipeline.syncOperations
            let framer = try pipeline.handler(type: SMTPLineFramer.self)
            let decoder = try pipeline.handler(type: SMTPReplyDecoder.self)
            if framer.discardBuffered() { injection.raise() }
            let ssl = try NIOSSLClientHandler(context: tlsContext, serverHostname: sni) { certificates, promise in
                chain.set(certificates.compactMap { try? $0.toDERBytes() })
                promise.succeed(.certificateVerified)
            }
            try pipeline.addHandler(ssl, position: .first)
            try pipeline.addHandler(HandshakeWaiter(promise: handshake), position: .after(ssl))
            decoder.sealed = false
        } catch {
            // Every promise must be completed, also when the upgrade is refused (injection).
            handshake.fail(error)
        }
        let channel = context.channel
        let deadline = context.eventLoop.scheduleTask(in: timeouts.startTLS) {
            handshake.fail(SMTPClientError.timeout("TLS handshake"))
            channel.close(promise: nil)
        }
        let judge = judgeTLS
        let eventLoop = context.eventLoop
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        handshake.futureResult.hop(to: eventLoop).whenComplete { outcome in
            deadline.cancel()
            let handler = bound.value
            guard !handler.finished else { return }
            switch outcome {
            case .failure(let error):
                handler.logger.info("TLS handshake failed", metadata: ["mx": "\(handler.host)", "error": "\(error)"])
                handler.resume(handler.machine.tlsFailed(injected: handler.injection.isRaised))
            case .success:
                if handler.injection.isRaised {
                    handler.logger.warning(
                        "plaintext sent after the server's 220 to STARTTLS was discarded unread (response injection)",
                        metadata: ["mx": "\(handler.host)"])
                }
                // Without the version the policy cannot judge the connection: it ends, as a
                // broken one does (deferred or tried elsewhere), never judged without it.
                guard let version = try? Self.version(channel) else {
                    handler.failed("the negotiated TLS version could not be read")
                    return
                }
                let presented = chain.value
                handler.presentedChain = presented
                Task {
                    let facts = await judge(version, presented)
                    eventLoop.execute { bound.value.resume(bound.value.machine.tlsEstablished(facts)) }
                }
            }
        }
    }

    private func resume(_ actions: [SMTPClientStateMachine.Action]) {
        guard !finished else { return }
        suspended = false
        queue += actions
        run()
    }

    /// The negotiated protocol version; `nil` below TLS 1.1.
    private static func version(_ channel: any Channel) throws -> SealpostCore.TLSVersion? {
        switch try channel.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self).tlsVersion {
        case .tlsv11: .v1_1
        case .tlsv12: .v1_2
        case .tlsv13: .v1_3
        default: nil
        }
    }
}
