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
    /// Where sessions keep their connections for the next session to the same host; `nil`:
    /// every session opens its own and ends it with QUIT.
    public var connections: SMTPConnectionCache?

    public init(
        heloName: String, timeouts: SMTPTimeouts = .init(), evaluator: CertificateEvaluator,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, connections: SMTPConnectionCache? = nil
    ) {
        self.heloName = heloName
        self.timeouts = timeouts
        self.evaluator = evaluator
        self.group = group
        self.connections = connections
    }

    /// Called on the connection's event loop after each message's transaction, so its outcome
    /// can be made durable at once: a crash later in the session then re-sends at most the
    /// messages whose outcome is not stored yet. Answers `nil` to go on at once, or a future
    /// that the final `.` of the session's next message waits for (everything before it goes
    /// out meanwhile).
    public typealias MessageDone =
        @Sendable (_ index: Int, _ results: [RecipientResult], _ tls: SessionTLS, _ eventLoop: any EventLoop) ->
        EventLoopFuture<Void>?

    /// `host` is the MX (or route) name: it is what the certificate must match and the SNI sent.
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
        /// A kept connection could not carry the session (see `SessionEnd.stale`).
        case stale
        /// Done, and the connection is clean for another session (a watcher holds it).
        case kept(SessionOutcome, KeptConnection)
    }

    /// One session: on a kept connection to the same address when there is one that this
    /// session's policies accept, else on a new connection. Only sessions that try STARTTLS
    /// keep theirs (not the plaintext retry after a failed handshake), and only when the
    /// client has a cache.
    private func attempt(
        _ messages: [OutboundMessage], host: String, port: Int, connectAddress: String?, policy: PolicySet,
        useTLS: Bool, logger: Logger, onMessage: MessageDone?, endpoints: SessionEndpoints?
    ) async -> Attempt {
        let key = SMTPConnectionCache.Key(host: host, port: port, address: connectAddress)
        let cache = useTLS && !messages.isEmpty ? connections : nil
        if let cache {
            while let entry = cache.take(key) {
                let outcome = await resume(
                    entry, messages, host: host, policy: policy, logger: logger, onMessage: onMessage, endpoints: endpoints)
                if case .stale = outcome { continue }
                return await settle(outcome, entry.channel, key: key, opened: entry.opened, cache: cache)
            }
        }
        return await connect(
            messages, host: host, port: port, connectAddress: connectAddress, policy: policy, useTLS: useTLS, logger: logger,
            onMessage: onMessage, endpoints: endpoints, keepOpen: cache != nil, key: key)
    }

    /// After a session on `channel`: keeps it when the session handed it back and the cache
    /// takes it, else ends it (QUIT when it was kept, close otherwise).
    private func settle(
        _ attempt: Attempt, _ channel: any Channel, key: SMTPConnectionCache.Key, opened: ContinuousClock.Instant,
        cache: SMTPConnectionCache?
    ) async -> Attempt {
        guard case .kept(let outcome, let kept) = attempt else {
            channel.close(promise: nil)
            try? await channel.closeFuture.get()
            return attempt
        }
        if cache?.put(key, .init(channel: channel, kept: kept, opened: opened)) != true { await SMTPConnectionCache.quit(channel) }
        return .done(outcome)
    }

    /// A session on a kept connection: DANE is matched again against this session's
    /// expectation (the certificate's verdict under the trust roots and the host name does
    /// not depend on the policy), the watcher is replaced by the conversation, and the
    /// machine judges the rest (`SMTPClientStateMachine.resume`).
    private func resume(
        _ entry: SMTPConnectionCache.Entry, _ messages: [OutboundMessage], host: String, policy: PolicySet, logger: Logger,
        onMessage: MessageDone?, endpoints: SessionEndpoints?
    ) async -> Attempt {
        var resumption = entry.kept.resumption
        if resumption.tls != nil {
            resumption.tls?.dane = await Self.dane(chain: entry.kept.chain, host: host, policy: policy)
        }
        let machine = SMTPClientStateMachine(
            messages: messages, heloName: heloName, mxHost: host, policy: policy, resuming: resumption, keepOpen: true)
        let channel = entry.channel
        let result = channel.eventLoop.makePromise(of: Attempt.self)
        let handler = SMTPConversationHandler(
            machine: machine, timeouts: timeouts, host: host, injection: InjectionFlag(), onMessage: onMessage,
            judgeTLS: judge(host: host, policy: policy), logger: logger, result: result, endpoints: endpoints,
            chain: entry.kept.chain, keptIdle: keptIdle)
        let installed = channel.eventLoop.submit {
            guard channel.isActive else { throw SMTPClientError.connectionClosed }
            let pipeline = channel.pipeline.syncOperations
            pipeline.removeHandler(try pipeline.handler(type: KeptConnectionWatcher.self), promise: nil)
            try pipeline.addHandler(handler)
        }
        do {
            try await installed.get()
        } catch {
            result.succeed(.stale)
            channel.close(promise: nil)
        }
        return (try? await result.futureResult.get()) ?? .stale
    }

    /// One new connection: the state machine runs on its event loop (`SMTPConversationHandler`)
    /// until it finishes; this task only waits for the end.
    private func connect(
        _ messages: [OutboundMessage], host: String, port: Int, connectAddress: String?, policy: PolicySet,
        useTLS: Bool, logger: Logger, onMessage: MessageDone?, endpoints: SessionEndpoints?, keepOpen: Bool,
        key: SMTPConnectionCache.Key
    ) async -> Attempt {
        let machine = SMTPClientStateMachine(
            messages: messages, heloName: heloName, mxHost: host, policy: policy, useTLS: useTLS, keepOpen: keepOpen)
        let injection = InjectionFlag()
        let timeouts = self.timeouts
        let keptIdle = self.keptIdle
        let judge = judge(host: host, policy: policy)
        let channel: any Channel
        let ended: EventLoopFuture<Attempt>
        do {
            (channel, ended) = try await ClientBootstrap(group: group)
                .connectTimeout(timeouts.connect)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .connect(host: connectAddress ?? host, port: port) { ch in
                    ch.eventLoop.makeCompletedFuture {
                        let result = ch.eventLoop.makePromise(of: Attempt.self)
                        try ch.pipeline.syncOperations.addHandler(SMTPLineFramer())
                        try ch.pipeline.syncOperations.addHandler(SMTPReplyDecoder(injectionFlag: injection))
                        try ch.pipeline.syncOperations.addHandler(
                            SMTPConversationHandler(
                                machine: machine, timeouts: timeouts, host: host, injection: injection, onMessage: onMessage,
                                judgeTLS: judge, logger: logger, result: result, endpoints: endpoints, keptIdle: keptIdle))
                        return (ch, result.futureResult)
                    }
                }
        } catch {
            return .done(.unreachable("connect to \(host):\(port) failed: \(error)"))
        }
        let opened = ContinuousClock.now
        let attempt: Attempt
        do {
            attempt = try await ended.get()
        } catch {
            attempt = .done(.unreachable(Self.describe(error)))
        }
        // A new connection is never stale; the machine only says so for kept ones.
        return await settle(attempt, channel, key: key, opened: opened, cache: keepOpen ? connections : nil)
    }

    /// How long a kept connection waits for the next session (the watcher's timer).
    private var keptIdle: TimeAmount { connections?.idle ?? .seconds(2) }

    /// The certificate's verdict and DANE, judged off the event loop once per handshake.
    private func judge(host: String, policy: PolicySet) -> SMTPConversationHandler.JudgeTLS {
        let evaluator = self.evaluator
        return { version, chain in
            let verdict = await evaluator.verdict(chain: chain, hostname: host)
            let dane = await Self.dane(chain: chain, host: host, policy: policy)
            return TLSFacts(version: version, certificate: verdict, dane: dane, summary: CertificateEvaluator.summary(chain: chain))
        }
    }

    /// The chain matched against the policies' TLSA expectation for `host`; `nil` without one.
    /// Asked after every handshake, and again by every session on a kept connection (the
    /// expectation is this session's, the chain the one presented when it was made).
    static func dane(chain: [[UInt8]], host: String, policy: PolicySet) async -> DANEMatch? {
        guard let expectation = policy.expectation(mxHost: host) else { return nil }
        return await DANEMatcher.match(chain: chain, expectation: expectation)
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
