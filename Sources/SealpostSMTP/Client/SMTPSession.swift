import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import SealpostCore
import Synchronization

/// Delivers a batch of messages to one host over one SMTP connection, applying the TLS
/// policy at the two points where it matters: after EHLO and after the handshake.
///
/// The policy decisions are `PolicySet`'s (pure); this type only does the talking.
public struct SMTPDeliveryClient: Sendable {
    public var heloName: String
    public var timeouts: SMTPTimeouts
    public var evaluator: CertificateEvaluator
    public var group: any EventLoopGroup

    public init(
        heloName: String, timeouts: SMTPTimeouts = .init(), evaluator: CertificateEvaluator,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.heloName = heloName
        self.timeouts = timeouts
        self.evaluator = evaluator
        self.group = group
    }

    /// `host` is the MX (or route) name: it is what the certificate must match and the SNI sent.
    /// Called after each message's transaction, so its outcome can be made durable at once:
    /// a crash later in the session then re-sends at most the message in flight.
    public typealias MessageDone = @Sendable (_ index: Int, _ results: [RecipientResult], _ tls: SessionTLS) async -> Void

    /// `endpoints` learns the addresses of the last connection made (TLS reporting's
    /// `sending-mta-ip` and `receiving-ip`).
    public func deliver(
        _ messages: [OutboundMessage], host: String, port: Int, connectAddress: String? = nil,
        policy: PolicySet, logger: Logger, onMessage: MessageDone? = nil, endpoints: SessionEndpoints? = nil
    ) async -> SessionOutcome {
        let first = await attempt(
            messages, host: host, port: port, connectAddress: connectAddress, policy: policy, useTLS: true,
            logger: logger, onMessage: onMessage, endpoints: endpoints)
        if case .retryWithoutTLS = first {
            logger.info("TLS handshake failed; opportunistic policy: retrying in plaintext", metadata: ["mx": "\(host)"])
            let second = await attempt(
                messages, host: host, port: port, connectAddress: connectAddress, policy: policy, useTLS: false,
                logger: logger, onMessage: onMessage, endpoints: endpoints)
            if case .done(let outcome) = second { return outcome }
            return .unreachable("TLS handshake failed and plaintext retry failed")
        }
        if case .done(let outcome) = first { return outcome }
        return .unreachable("unknown")
    }

    enum Attempt: Sendable {
        case done(SessionOutcome)
        case retryWithoutTLS
    }

    private func attempt(
        _ messages: [OutboundMessage], host: String, port: Int, connectAddress: String?, policy: PolicySet,
        useTLS: Bool, logger: Logger, onMessage: MessageDone?, endpoints: SessionEndpoints?
    ) async -> Attempt {
        let channel: NIOAsyncChannel<SMTPReply, ByteBuffer>
        let injection = InjectionFlag()
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(timeouts.connect)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .connect(host: connectAddress ?? host, port: port) { ch in
                    ch.eventLoop.makeCompletedFuture {
                        try ch.pipeline.syncOperations.addHandler(SMTPLineFramer())
                        try ch.pipeline.syncOperations.addHandler(SMTPReplyDecoder(injectionFlag: injection))
                        return try NIOAsyncChannel<SMTPReply, ByteBuffer>(wrappingChannelSynchronously: ch)
                    }
                }
        } catch {
            return .done(.unreachable("connect to \(host):\(port) failed: \(error)"))
        }
        endpoints?.set(local: channel.channel.localAddress?.ipAddress, remote: channel.channel.remoteAddress?.ipAddress)
        do {
            return try await channel.executeThenClose { inbound, outbound in
                var conversation = Conversation(
                    channel: channel.channel, inbound: inbound.makeAsyncIterator(), outbound: outbound,
                    injection: injection)
                return try await run(
                    &conversation, messages: messages, host: host, policy: policy, useTLS: useTLS, logger: logger,
                    onMessage: onMessage)
            }
        } catch let error as SMTPClientError {
            return .done(.unreachable(error.description))
        } catch {
            return .done(.unreachable("\(error)"))
        }
    }

    /// Carries out the state machine's actions on the connection; every decision is the machine's.
    private func run(
        _ c: inout Conversation, messages: [OutboundMessage], host: String, policy: PolicySet,
        useTLS: Bool, logger: Logger, onMessage: MessageDone?
    ) async throws -> Attempt {
        var machine = SMTPClientStateMachine(messages: messages, heloName: heloName, mxHost: host, policy: policy, useTLS: useTLS)
        var actions = machine.start()
        while true {
            var next: [SMTPClientStateMachine.Action] = []
            for action in actions {
                do {
                    switch action {
                    case .send(let line):
                        try await c.send(line)
                    case .sendPipelined(let lines):
                        try await c.send(lines.joined(separator: "\r\n"))
                    case .sendData(let bytes):
                        try await c.sendRaw(bytes)
                    case .awaitReply(let phase):
                        next = machine.replied(try await c.read(timeouts.limit(for: phase), phase.description))
                    case .startTLS:
                        next = await handshake(&c, machine: &machine, host: host, policy: policy, logger: logger)
                    case .messageDone(let index, let results, let tls):
                        await onMessage?(index, results, tls)
                    case .finish(.retryWithoutTLS):
                        return .retryWithoutTLS
                    case .finish(.outcome(let outcome)):
                        return .done(outcome)
                    }
                } catch {
                    next = machine.connectionFailed(Self.describe(error))
                    break
                }
            }
            // Every step ends in a read, a handshake or the end; anything else would spin.
            guard !next.isEmpty else { return .done(.unreachable("the SMTP conversation stalled")) }
            actions = next
        }
    }

    /// STARTTLS's handshake and the certificate's verdict, fed back to the machine.
    private func handshake(
        _ c: inout Conversation, machine: inout SMTPClientStateMachine, host: String,
        policy: PolicySet, logger: Logger
    ) async -> [SMTPClientStateMachine.Action] {
        let chain = ChainBox()
        do {
            try await c.upgrade(host: host, chain: chain, timeout: timeouts.startTLS)
        } catch {
            logger.info("TLS handshake failed", metadata: ["mx": "\(host)", "error": "\(error)"])
            return machine.tlsFailed(injected: c.injection.isRaised)
        }
        if c.injection.isRaised {
            logger.warning(
                "plaintext sent after the server's 220 to STARTTLS was discarded unread (response injection)",
                metadata: ["mx": "\(host)"])
        }
        do {
            let version = try await c.negotiatedVersion()
            let verdict = await evaluator.verdict(chain: chain.value, hostname: host)
            // DANE: the same chain against the host's usable TLSA records, when it has any.
            var dane: DANEMatch?
            if let expectation = policy.expectation(mxHost: host) {
                dane = await DANEMatcher.match(chain: chain.value, expectation: expectation)
            }
            return machine.tlsEstablished(
                TLSFacts(version: version, certificate: verdict, dane: dane, summary: CertificateEvaluator.summary(chain: chain.value)))
        } catch {
            return machine.connectionFailed(Self.describe(error))
        }
    }

    static func describe(_ error: any Error) -> String {
        (error as? SMTPClientError)?.description ?? "\(error)"
    }
}

/// The presented certificate chain, captured during the handshake (event loop) and read after it.
final class ChainBox: Sendable {
    private let storage = Mutex<[[UInt8]]>([])
    var value: [[UInt8]] { storage.withLock { $0 } }
    func set(_ chain: [[UInt8]]) { storage.withLock { $0 = chain } }
}

/// The reading and writing side of one connection, with a deadline on every read.
struct Conversation {
    let channel: any Channel
    var inbound: NIOAsyncChannelInboundStream<SMTPReply>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    let injection: InjectionFlag

    mutating func read(_ timeout: TimeAmount, _ phase: String) async throws -> SMTPReply {
        let timedOut = Atomic<Bool>(false)
        let channel = self.channel
        let timer = channel.eventLoop.scheduleTask(in: timeout) {
            timedOut.store(true, ordering: .relaxed)
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        do {
            guard let reply = try await inbound.next() else {
                throw timedOut.load(ordering: .relaxed) ? SMTPClientError.timeout(phase) : SMTPClientError.connectionClosed
            }
            return reply
        } catch {
            if timedOut.load(ordering: .relaxed) { throw SMTPClientError.timeout(phase) }
            throw error
        }
    }

    func send(_ command: String) async throws {
        // Nothing may follow the 220 to STARTTLS in plaintext: the decoder guards from here on.
        if command == "STARTTLS" { try await setAwaitingStartTLS() }
        try await outbound.write(ByteBuffer(string: command + "\r\n"))
    }

    /// Written in slices, each awaited (the channel's backpressure), so a large message is
    /// never copied whole into a socket buffer per session.
    func sendRaw(_ bytes: [UInt8]) async throws {
        let slice = 64 * 1024
        var start = 0
        while start < bytes.count {
            let end = min(start + slice, bytes.count)
            try await outbound.write(ByteBuffer(bytes: bytes[start..<end]))
            start = end
        }
    }

    func setAwaitingStartTLS() async throws {
        try await channel.eventLoop.submit { [channel] in
            try channel.pipeline.syncOperations.handler(type: SMTPReplyDecoder.self).awaitingStartTLSReply = true
        }.get()
    }

    /// Puts TLS under the line framer and waits for the handshake. Plaintext already received
    /// after the `220` (an injection) is discarded, never parsed (see `SMTPReplyDecoder`).
    func upgrade(host: String, chain: ChainBox, timeout: TimeAmount) async throws {
        let context = try ClientTLSContext.shared.get()
        let sni = host.isIPAddress ? nil : host
        let channel = self.channel
        let injection = self.injection
        let handshake = channel.eventLoop.makePromise(of: Void.self)
        do {
            try await channel.eventLoop.submit {
                let framer = try channel.pipeline.syncOperations.handler(type: SMTPLineFramer.self)
                let decoder = try channel.pipeline.syncOperations.handler(type: SMTPReplyDecoder.self)
                if framer.discardBuffered() { injection.raise() }
                let ssl = try NIOSSLClientHandler(context: context, serverHostname: sni) { certificates, promise in
                    chain.set(certificates.compactMap { try? $0.toDERBytes() })
                    promise.succeed(.certificateVerified)
                }
                try channel.pipeline.syncOperations.addHandler(ssl, position: .first)
                try channel.pipeline.syncOperations.addHandler(HandshakeWaiter(promise: handshake), position: .after(ssl))
                decoder.sealed = false
            }.get()
        } catch {
            // Every promise must be completed, also when the upgrade is refused (injection).
            handshake.fail(error)
            throw error
        }
        let timer = channel.eventLoop.scheduleTask(in: timeout) {
            handshake.fail(SMTPClientError.timeout("TLS handshake"))
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        try await handshake.futureResult.get()
    }

    /// The negotiated protocol version; `nil` below TLS 1.1.
    func negotiatedVersion() async throws -> SealpostCore.TLSVersion? {
        let channel = self.channel
        let version = try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self).tlsVersion
        }.get()
        switch version {
        case .tlsv11: return .v1_1
        case .tlsv12: return .v1_2
        case .tlsv13: return .v1_3
        default: return nil
        }
    }
}

/// The TLS client context, built once: swift-nio-ssl documents context creation as expensive
/// and blocking, and every STARTTLS uses the same configuration.
enum ClientTLSContext {
    static let shared = Result<NIOSSLContext, any Error> {
        var config = TLSConfiguration.makeClientConfiguration()
        config.minimumTLSVersion = .tlsv1
        // Every certificate passes the handshake; `CertificateEvaluator` judges it afterwards.
        config.certificateVerification = .noHostnameVerification
        return try NIOSSLContext(configuration: config)
    }
}

extension String {
    public var isIPAddress: Bool {
        (try? SocketAddress(ipAddress: self, port: 0)) != nil
    }
}

/// The local and remote addresses of a session's connection, filled in once it is made.
public final class SessionEndpoints: Sendable {
    private let value = Mutex<(local: String?, remote: String?)>((nil, nil))

    public init() {}

    func set(local: String?, remote: String?) { value.withLock { $0 = (local, remote) } }

    public var local: String? { value.withLock { $0.local } }
    public var remote: String? { value.withLock { $0.remote } }
}
