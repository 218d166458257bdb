import SealpostSettings
import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
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

    public init(heloName: String, timeouts: SMTPTimeouts = .init(), evaluator: CertificateEvaluator,
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.heloName = heloName
        self.timeouts = timeouts
        self.evaluator = evaluator
        self.group = group
    }

    /// `host` is the MX (or route) name: it is what the certificate must match and the SNI sent.
    /// Called after each message's transaction, so its outcome can be made durable at once:
    /// a crash later in the session then re-sends at most the message in flight.
    public typealias MessageDone = @Sendable (_ index: Int, _ results: [RecipientResult], _ tls: SessionTLS) async -> Void

    public func deliver(_ messages: [OutboundMessage], host: String, port: Int, connectAddress: String? = nil,
                        policy: PolicySet, logger: Logger, onMessage: MessageDone? = nil) async -> SessionOutcome {
        let first = await attempt(messages, host: host, port: port, connectAddress: connectAddress, policy: policy, useTLS: true,
                                  logger: logger, onMessage: onMessage)
        if case .retryWithoutTLS = first {
            logger.info("TLS handshake failed; opportunistic policy: retrying in plaintext", metadata: ["mx": "\(host)"])
            let second = await attempt(messages, host: host, port: port, connectAddress: connectAddress, policy: policy, useTLS: false,
                                       logger: logger, onMessage: onMessage)
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

    private func attempt(_ messages: [OutboundMessage], host: String, port: Int, connectAddress: String?, policy: PolicySet,
                         useTLS: Bool, logger: Logger, onMessage: MessageDone?) async -> Attempt {
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
        do {
            return try await channel.executeThenClose { inbound, outbound in
                var conversation = Conversation(channel: channel.channel, inbound: inbound.makeAsyncIterator(), outbound: outbound,
                                                injection: injection)
                return try await run(&conversation, messages: messages, host: host, policy: policy, useTLS: useTLS, logger: logger,
                                     onMessage: onMessage)
            }
        } catch let error as SMTPClientError {
            return .done(.unreachable(error.description))
        } catch {
            return .done(.unreachable("\(error)"))
        }
    }

    private func run(_ c: inout Conversation, messages: [OutboundMessage], host: String, policy: PolicySet,
                     useTLS: Bool, logger: Logger, onMessage: MessageDone?) async throws -> Attempt {
        let greeting = try await c.read(timeouts.greeting, "greeting")
        guard greeting.code == 220 else { return .done(.unreachable("greeting: \(greeting.summary)")) }
        var capabilities = try await c.hello(heloName, timeout: timeouts.ehlo)

        var tls: SessionTLS = .plaintext
        let decision = useTLS ? policy.afterEHLO(starttlsOffered: capabilities.startTLS, mxHost: host)
                              : (policy.allowsPlaintext(mxHost: host) ? .plaintext : .refuse(.validationFailure))
        switch decision {
        case .refuse(let failure):
            try? await c.quit(timeouts.quit)
            return .done(.policyRefused(failure, ConnectionFacts(starttlsOffered: capabilities.startTLS, tls: nil)))
        case .plaintext:
            break
        case .startTLS:
            try await c.setAwaitingStartTLS()
            try await c.send("STARTTLS")
            let reply = try await c.read(timeouts.startTLS, "STARTTLS reply")
            if reply.code != 220 {
                // A server that offers STARTTLS and then refuses it is treated as not offering it.
                switch policy.afterSTARTTLSRefused(mxHost: host) {
                case .refuse(let failure):
                    try? await c.quit(timeouts.quit)
                    return .done(.policyRefused(failure, ConnectionFacts(starttlsOffered: false, tls: nil)))
                default:
                    break
                }
            } else {
                let chain = ChainBox()
                do {
                    try await c.upgrade(host: host, chain: chain, timeout: timeouts.startTLS)
                } catch {
                    // An injection attempt is never a reason to fall back to plaintext: the
                    // connection is abandoned and the delivery tried again later.
                    if c.injection.isRaised { throw SMTPClientError.startTLSInjection }
                    logger.info("TLS handshake failed", metadata: ["mx": "\(host)", "error": "\(error)"])
                    let facts = ConnectionFacts(starttlsOffered: true, tls: nil)
                    switch policy.afterHandshake(facts, mxHost: host) {
                    case .refuse(let failure): return .done(.policyRefused(failure, facts))
                    default: return .retryWithoutTLS
                    }
                }
                if c.injection.isRaised {
                    logger.warning("plaintext sent after the server's 220 to STARTTLS was discarded unread (response injection)",
                                   metadata: ["mx": "\(host)"])
                }
                let version = try await c.negotiatedVersion()
                let verdict = await evaluator.verdict(chain: chain.value, hostname: host)
                let facts = ConnectionFacts(starttlsOffered: true, tls: TLSFacts(version: version, certificate: verdict))
                switch policy.afterHandshake(facts, mxHost: host) {
                case .refuse(let failure):
                    try? await c.quit(timeouts.quit)
                    return .done(.policyRefused(failure, facts))
                case .reconnectWithoutTLS:
                    return .retryWithoutTLS
                case .proceed(let reached):
                    // swift-nio-ssl does not expose the negotiated cipher suite.
                    tls = SessionTLS(reached: reached, version: version, cipher: nil)
                }
                // RFC 3207 §4.2: forget everything learnt before TLS and say EHLO again.
                capabilities = try await c.hello(heloName, timeout: timeouts.ehlo)
            }
        }

        var results: [[RecipientResult]] = []
        for (index, message) in messages.enumerated() {
            do {
                let outcome = try await transaction(&c, message, capabilities: capabilities)
                results.append(outcome)
                await onMessage?(index, outcome, tls)
            } catch {
                // The connection broke: this and the remaining messages are not delivered.
                let reason = "connection lost: \(error)"
                results.append(message.recipients.map { _ in .temporary(reason) })
                for rest in messages[(index + 1)...] { results.append(rest.recipients.map { _ in .temporary(reason) }) }
                return .done(.completed(tls, results))
            }
        }
        try? await c.quit(timeouts.quit)
        return .done(.completed(tls, results))
    }

    /// MAIL, RCPT…, DATA for one message; pipelined when the server offers PIPELINING.
    private func transaction(_ c: inout Conversation, _ m: OutboundMessage, capabilities: SMTPCapabilities) async throws -> [RecipientResult] {
        let data = dotStuffed(m.content)
        if let limit = capabilities.sizeLimit, data.count > limit {
            return m.recipients.map { _ in .permanent("552 5.3.4 message size \(data.count) exceeds the server's limit \(limit)") }
        }
        let needsUTF8 = !(m.mailFrom.allSatisfy(\.isASCII) && m.recipients.allSatisfy { $0.allSatisfy(\.isASCII) })
        if needsUTF8 && !capabilities.smtpUTF8 {
            return m.recipients.map { _ in .permanent("553 5.6.7 non-ASCII address and the server lacks SMTPUTF8") }
        }
        var mail = "MAIL FROM:<\(m.mailFrom)>"
        if capabilities.sizeLimit != nil || capabilities.keywords.contains("SIZE") { mail += " SIZE=\(data.count)" }
        if needsUTF8 { mail += " SMTPUTF8" }
        let rcpts = m.recipients.map { "RCPT TO:<\($0)>" }

        let mailReply: SMTPReply
        var rcptReplies: [SMTPReply] = []
        var dataReply: SMTPReply?
        if capabilities.pipelining {
            try await c.send(([mail] + rcpts + ["DATA"]).joined(separator: "\r\n"))
            mailReply = try await c.read(timeouts.mailFrom, "MAIL reply")
            for _ in rcpts { rcptReplies.append(try await c.read(timeouts.rcptTo, "RCPT reply")) }
            dataReply = try await c.read(timeouts.dataInit, "DATA reply")
        } else {
            try await c.send(mail)
            mailReply = try await c.read(timeouts.mailFrom, "MAIL reply")
            if mailReply.isPositiveCompletion {
                for r in rcpts {
                    try await c.send(r)
                    rcptReplies.append(try await c.read(timeouts.rcptTo, "RCPT reply"))
                }
                if rcptReplies.contains(where: \.isPositiveCompletion) {
                    try await c.send("DATA")
                    dataReply = try await c.read(timeouts.dataInit, "DATA reply")
                }
            }
        }
        guard mailReply.isPositiveCompletion else {
            if dataReply?.code == 354 { try await c.abortData(timeouts.dataTermination) }
            try await c.reset(timeouts.mailFrom)
            let r: RecipientResult = mailReply.isPermanentFailure ? .permanent(mailReply.summary) : .temporary(mailReply.summary)
            return m.recipients.map { _ in r }
        }
        var results: [RecipientResult?] = rcptReplies.map { reply in
            if reply.isPositiveCompletion { return nil }
            return reply.isPermanentFailure ? .permanent(reply.summary) : .temporary(reply.summary)
        }
        guard let dataReply, dataReply.code == 354 else {
            try await c.reset(timeouts.mailFrom)
            let summary = dataReply?.summary ?? "no recipient accepted"
            return results.map { $0 ?? .temporary(summary) }
        }
        if results.allSatisfy({ $0 != nil }) {
            // Pipelined DATA was accepted although every RCPT failed: end it empty and drop it.
            try await c.abortData(timeouts.dataTermination)
            try await c.reset(timeouts.mailFrom)
            return results.map { $0! }
        }
        try await c.sendRaw(data)
        let final = try await c.read(timeouts.dataTermination, "end of DATA reply")
        let accepted: RecipientResult = final.isPositiveCompletion ? .delivered(final.summary)
            : final.isPermanentFailure ? .permanent(final.summary) : .temporary(final.summary)
        if !final.isPositiveCompletion { try await c.reset(timeouts.mailFrom) }
        results = results.map { $0 ?? accepted }
        return results.map { $0! }
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
        try await outbound.write(ByteBuffer(string: command + "\r\n"))
    }

    func sendRaw(_ bytes: [UInt8]) async throws {
        try await outbound.write(ByteBuffer(bytes: bytes))
    }

    /// EHLO, falling back to HELO (then no extensions) when the server rejects EHLO.
    mutating func hello(_ name: String, timeout: TimeAmount) async throws -> SMTPCapabilities {
        try await send("EHLO \(name)")
        let reply = try await read(timeout, "EHLO reply")
        if reply.isPositiveCompletion { return SMTPCapabilities(ehlo: reply) }
        try await send("HELO \(name)")
        let helo = try await read(timeout, "HELO reply")
        guard helo.isPositiveCompletion else { throw SMTPClientError.unexpectedReply(helo.summary) }
        return SMTPCapabilities()
    }

    mutating func reset(_ timeout: TimeAmount) async throws {
        try await send("RSET")
        _ = try await read(timeout, "RSET reply")
    }

    /// Ends a DATA phase we do not want to complete with an empty message, then forgets it.
    mutating func abortData(_ timeout: TimeAmount) async throws {
        try await sendRaw(Array(".\r\n".utf8))
        _ = try await read(timeout, "end of DATA reply")
    }

    mutating func quit(_ timeout: TimeAmount) async throws {
        try await send("QUIT")
        _ = try await read(timeout, "QUIT reply")
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
    func negotiatedVersion() async throws -> SealpostSettings.TLSVersion? {
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
    var isIPAddress: Bool {
        (try? SocketAddress(ipAddress: self, port: 0)) != nil
    }
}
