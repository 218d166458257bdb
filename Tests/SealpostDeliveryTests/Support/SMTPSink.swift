import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A plain SMTP receiver on a loopback port for engine tests: no STARTTLS, accepts every
/// command, and records every connection and every byte it was sent. Real peers (Postfix) are
/// in the end-to-end tests; this one exists so engine tests can count connections exactly.
final class SinkLog: Sendable {
    let state = Mutex<(connections: Int, bytes: [UInt8])>((0, []))
    /// Every read as it arrived, with what `mark` said at that moment.
    let reads = Mutex<[(bytes: [UInt8], mark: Int)]>([])
    /// Set by a test (e.g. how many outcomes were stored), recorded with each read.
    let mark = Atomic<Int>(0)
    /// Every connection in the order it opened: when it opened and closed (one counter for
    /// both, so overlaps show) and the `Subject:` of each message it carried.
    let sessions = Mutex<(clock: Int, list: [(opened: Int, closed: Int?, subjects: [String])])>((0, []))
    /// A message whose `Subject:` contains `marker` gets its final reply only once `opened`
    /// connections have been opened in all, or after `timeout`.
    let slow = Mutex<(marker: String, opened: Int, timeout: TimeAmount)?>(nil)

    /// The most connections that were open at once.
    var mostOpenAtOnce: Int {
        sessions.withLock { s in
            s.list.map { one in s.list.filter { $0.opened <= one.opened && ($0.closed ?? .max) > one.opened }.count }.max() ?? 0
        }
    }
}

final class SMTPSink: Sendable {
    let channel: any Channel
    let log = SinkLog()
    var port: Int { channel.localAddress!.port! }
    var connections: Int { log.state.withLock { $0.connections } }
    var received: String { log.state.withLock { String(decoding: $0.bytes, as: UTF8.self) } }

    init() async throws {
        let log = self.log
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                log.state.withLock { $0.connections += 1 }
                return child.pipeline.addHandler(SinkHandler(log: log))
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func close() async { try? await channel.close() }
}

private final class SinkHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let log: SinkLog
    var pending: [UInt8] = []
    var inData = false
    var session = 0
    var subject = ""

    init(log: SinkLog) { self.log = log }

    func channelActive(context: ChannelHandlerContext) {
        session = log.sessions.withLock { s in
            s.clock += 1
            s.list.append((s.clock, nil, []))
            return s.list.count - 1
        }
        reply(context, "220 sink.test ESMTP")
    }

    func channelInactive(context: ChannelHandlerContext) {
        log.sessions.withLock { s in
            s.clock += 1
            s.list[session].closed = s.clock
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let bytes = Array(buffer: unwrapInboundIn(data))
        log.state.withLock { $0.bytes += bytes }
        let mark = log.mark.load(ordering: .sequentiallyConsistent)
        log.reads.withLock { $0.append((bytes, mark)) }
        pending += bytes
        process(context)
    }

    /// Lines are answered in order; a slow final reply holds back everything after it.
    var held = false
    func process(_ context: ChannelHandlerContext) {
        while !held, let lf = pending.firstIndex(of: 0x0A) {
            let line = String(decoding: pending[..<lf], as: UTF8.self).trimmingCharacters(in: .newlines)
            pending.removeSubrange(...lf)
            if inData {
                if line.hasPrefix("Subject: ") { subject = String(line.dropFirst(9)) }
                if line == "." {
                    inData = false
                    let subject = self.subject
                    log.sessions.withLock { $0.list[session].subjects.append(subject) }
                    if let slow = log.slow.withLock({ $0 }), subject.contains(slow.marker) {
                        held = true
                        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
                        let until = NIODeadline.now() + slow.timeout
                        let log = self.log
                        context.eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(5), delay: .milliseconds(5)) { task in
                            let opened = log.sessions.withLock { $0.list.count }
                            guard opened >= slow.opened || NIODeadline.now() >= until else { return }
                            task.cancel()
                            let (handler, context) = bound.value
                            handler.reply(context, "250 2.0.0 accepted by sink")
                            handler.held = false
                            handler.process(context)
                        }
                    } else {
                        reply(context, "250 2.0.0 accepted by sink")
                    }
                }
                continue
            }
            switch line.prefix(4).uppercased() {
            case "EHLO": reply(context, "250-sink.test\r\n250 PIPELINING")
            case "DATA": inData = true; reply(context, "354 go on")
            case "QUIT": reply(context, "221 2.0.0 bye"); context.close(promise: nil)
            default: reply(context, "250 2.0.0 ok")
            }
        }
    }

    private func reply(_ context: ChannelHandlerContext, _ text: String) {
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: text + "\r\n")), promise: nil)
    }
}
