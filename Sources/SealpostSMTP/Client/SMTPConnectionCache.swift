import NIOCore
import Synchronization

/// What a kept connection carries to the next session: the machine's `Resumption` and the
/// certificates the server presented (for DANE, matched again per session).
struct KeptConnection: Sendable {
    var resumption: SMTPClientStateMachine.Resumption
    var chain: [[UInt8]]
}

/// Connections kept open between sessions to the same host (Postfix's connection cache,
/// `smtp_connection_cache_time_limit`): a session that ends cleanly hands its connection
/// here instead of QUIT, and the next session to the same host, port and address takes it,
/// skipping the connect, greeting, EHLO and the TLS handshake.
///
/// Why: every session used to open its own connection, so a round of 1,000 messages in 20
/// sessions cost 20 handshakes, on this client and on the server; in the bench, halving the
/// sessions made STARTTLS delivery 17% faster.
///
/// What is kept is never trusted blindly: each session judges the kept connection's facts
/// under its own policies before it sends anything (`SMTPClientStateMachine.resume`), and a
/// connection it does not accept is closed, the session going on over a new one. A kept
/// connection lives `idle` with no session (then QUIT), and is not kept again once it is
/// `maxAge` old.
public final class SMTPConnectionCache: Sendable {
    struct Key: Hashable, Sendable {
        var host: String
        var port: Int
        var address: String?
    }

    struct Entry: Sendable {
        var channel: any Channel
        var kept: KeptConnection
        var opened: ContinuousClock.Instant
    }

    private struct State {
        var entries: [Key: [Entry]] = [:]
        var closed = false
    }

    private let state = Mutex(State())
    /// How long a connection waits for the next session.
    public let idle: TimeAmount
    /// How long after it was opened a connection is still kept.
    public let maxAge: Duration
    /// At most this many kept connections to one host (its sessions' limit is lower).
    public let perHost: Int
    /// At most this many in all: mail to many domains, one session each, would otherwise keep a
    /// connection (a file descriptor, TLS state) per host that nobody takes.
    public let total: Int

    public init(idle: TimeAmount = .seconds(2), maxAge: Duration = .seconds(300), perHost: Int = 32, total: Int = 128) {
        self.idle = idle
        self.maxAge = maxAge
        self.perHost = perHost
        self.total = total
    }

    /// The most recently kept connection to `key` that is still open.
    func take(_ key: Key) -> Entry? {
        state.withLock { s in
            while var list = s.entries[key], let entry = list.popLast() {
                s.entries[key] = list.isEmpty ? nil : list
                if entry.channel.isActive { return entry }
            }
            return nil
        }
    }

    /// Keeps `entry` for the next session; false when it is not kept (too old, the host's
    /// limit, closed or shutting down): the caller ends it with QUIT.
    func put(_ key: Key, _ entry: Entry) -> Bool {
        guard entry.channel.isActive, ContinuousClock.now - entry.opened < maxAge else { return false }
        return state.withLock { s in
            guard !s.closed else { return false }
            var list = (s.entries[key] ?? []).filter { $0.channel.isActive }
            guard list.count < perHost else { return false }
            if s.entries.values.reduce(0, { $0 + $1.count }) >= total {
                // Full: drop what the server closed meanwhile, then decide.
                s.entries = s.entries.compactMapValues { l in
                    let open = l.filter { $0.channel.isActive }
                    return open.isEmpty ? nil : open
                }
                guard s.entries.values.reduce(0, { $0 + $1.count }) < total else { return false }
            }
            list.append(entry)
            s.entries[key] = list
            return true
        }
    }

    /// How many connections are kept now (open or not yet found closed).
    public var count: Int { state.withLock { $0.entries.values.reduce(0) { $0 + $1.count } } }

    /// Ends every kept connection with QUIT and keeps none from now on (shutdown).
    public func closeAll() async {
        let all = state.withLock { s -> [Entry] in
            s.closed = true
            defer { s.entries = [:] }
            return s.entries.values.flatMap { $0 }
        }
        for entry in all { await Self.quit(entry.channel) }
    }

    /// QUIT (not waiting for its reply) and close.
    static func quit(_ channel: any Channel) async {
        quitAndClose(channel)
        try? await channel.closeFuture.get()
    }

    /// Writes QUIT and closes, without waiting for either.
    static func quitAndClose(_ channel: any Channel) {
        var buffer = channel.allocator.buffer(capacity: 6)
        buffer.writeString("QUIT\r\n")
        channel.writeAndFlush(buffer, promise: nil)
        channel.close(promise: nil)
    }
}

/// Watches a kept connection while no session uses it: whatever the server sends (a 421
/// before it drops an idle client) or an error closes it, and so does the idle time running
/// out (with QUIT). The next session removes it before it starts.
final class KeptConnectionWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = SMTPReply
    typealias OutboundOut = ByteBuffer

    private let idle: TimeAmount
    private var timer: Scheduled<Void>?

    init(idle: TimeAmount) { self.idle = idle }

    func handlerAdded(context: ChannelHandlerContext) {
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: idle) { SMTPConnectionCache.quitAndClose(channel) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }
}
