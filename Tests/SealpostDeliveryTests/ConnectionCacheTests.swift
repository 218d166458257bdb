import NIOCore
import NIOEmbedded
import Testing

@testable import SealpostSMTP

/// The cache of kept connections, on embedded channels: which connection a session gets, and
/// when one is not kept.
@Suite struct ConnectionCacheTests {
    static let kept = KeptConnection(
        resumption: .init(capabilities: SMTPCapabilities(ehlo: SMTPReply(code: 250, lines: ["mx.test", "PIPELINING"])), tls: nil),
        chain: [])

    static func open() async throws -> NIOAsyncTestingChannel {
        let channel = NIOAsyncTestingChannel()
        try await channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 25))
        return channel
    }

    static func entry(_ channel: NIOAsyncTestingChannel, age: Duration = .zero) -> SMTPConnectionCache.Entry {
        .init(channel: channel, kept: kept, opened: ContinuousClock.now - age)
    }

    static let a = SMTPConnectionCache.Key(host: "mx.a.test", port: 25, address: "192.0.2.1")
    static let b = SMTPConnectionCache.Key(host: "mx.a.test", port: 25, address: "192.0.2.2")

    @Test func aSessionTakesTheLatestOpenConnectionToItsAddressOnly() async throws {
        let cache = SMTPConnectionCache()
        let first = try await Self.open(), second = try await Self.open(), closed = try await Self.open()
        #expect(cache.put(Self.a, Self.entry(first)))
        #expect(cache.put(Self.a, Self.entry(second)))
        #expect(cache.put(Self.a, Self.entry(closed)))
        try await closed.close()
        #expect(cache.take(Self.b) == nil, "another address of the same host is another connection")
        #expect(cache.take(Self.a)?.channel === second, "the closed one is skipped, the latest open one taken")
        #expect(cache.take(Self.a)?.channel === first)
        #expect(cache.take(Self.a) == nil)
        #expect(cache.count == 0)
    }

    @Test func notKeptWhenClosedTooOldOrFull() async throws {
        let cache = SMTPConnectionCache(maxAge: .seconds(300), perHost: 2, total: 3)
        var channels: [NIOAsyncTestingChannel] = []
        for _ in 0..<7 { channels.append(try await Self.open()) }
        let c = SMTPConnectionCache.Key(host: "mx.c.test", port: 25, address: nil)
        try await channels[0].close()
        #expect(!cache.put(Self.a, Self.entry(channels[0])), "closed")
        #expect(!cache.put(Self.a, Self.entry(channels[1], age: .seconds(301))), "too old")
        #expect(cache.put(Self.a, Self.entry(channels[2])))
        #expect(cache.put(Self.a, Self.entry(channels[3])))
        #expect(!cache.put(Self.a, Self.entry(channels[4])), "two per host")
        #expect(cache.put(Self.b, Self.entry(channels[4])))
        #expect(!cache.put(c, Self.entry(channels[5])), "three in all")
        // Room again once a kept connection is found closed.
        try await channels[4].close()
        #expect(cache.put(c, Self.entry(channels[6])))
        #expect(cache.count == 3)
    }

    /// Shutdown: every kept connection gets QUIT and is closed; nothing is kept afterwards.
    @Test func closeAllQuitsEveryConnection() async throws {
        let cache = SMTPConnectionCache()
        let channel = try await Self.open()
        #expect(cache.put(Self.a, Self.entry(channel)))
        await cache.closeAll()
        #expect(!channel.isActive)
        var written = try #require(try await channel.readOutbound(as: ByteBuffer.self))
        #expect(written.readString(length: written.readableBytes) == "QUIT\r\n")
        let late = try await Self.open()
        #expect(!cache.put(Self.a, Self.entry(late)), "nothing is kept after shutdown")
        #expect(cache.count == 0)
    }
}
