import NIOCore
import NIOEmbedded
import Testing

@testable import SealpostCore
@testable import SealpostDelivery
@testable import SealpostSMTP

/// The inbound handlers on an in-memory channel: after the 220 that answers STARTTLS nothing
/// is passed on in plaintext. An injected reply is discarded unread (Postfix's behaviour), the
/// injection is flagged, and the connection stays open for the handshake.
@Suite struct STARTTLSGuardTests {
    func channel() throws -> (EmbeddedChannel, SMTPReplyDecoder, SMTPLineFramer, InjectionFlag) {
        let flag = InjectionFlag()
        let framer = SMTPLineFramer()
        let decoder = SMTPReplyDecoder(injectionFlag: flag)
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(framer)
        try channel.pipeline.syncOperations.addHandler(decoder)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 25)).wait()
        return (channel, decoder, framer, flag)
    }

    @Test func injectedRepliesAfterThe220AreDiscarded() throws {
        let (channel, decoder, framer, flag) = try channel()
        decoder.awaitingStartTLSReply = true
        try channel.writeInbound(ByteBuffer(string: "220 2.0.0 go ahead\r\n250 2.0.0 forged reply\r\n250-forged\r\n"))
        #expect(try channel.readInbound(as: SMTPReply.self) == SMTPReply(code: 220, lines: ["2.0.0 go ahead"]))
        #expect(try channel.readInbound(as: SMTPReply.self) == nil, "the forged reply never reaches the conversation")
        #expect(flag.isRaised)
        #expect(channel.isActive, "the handshake goes ahead")
        #expect(!framer.discardBuffered())
        // A partial injected line still in the framer is dropped too.
        try channel.writeInbound(ByteBuffer(string: "250 half"))
        #expect(framer.discardBuffered())
        #expect(try channel.readInbound(as: SMTPReply.self) == nil)
        _ = try channel.finish()
    }

    @Test func withoutSTARTTLSRepliesFlowAndNothingIsFlagged() throws {
        let (channel, _, _, flag) = try channel()
        try channel.writeInbound(ByteBuffer(string: "250-mx.test\r\n250 PIPELINING\r\n220 not a STARTTLS answer\r\n"))
        #expect(try channel.readInbound(as: SMTPReply.self) == SMTPReply(code: 250, lines: ["mx.test", "PIPELINING"]))
        #expect(try channel.readInbound(as: SMTPReply.self) == SMTPReply(code: 220, lines: ["not a STARTTLS answer"]))
        #expect(!flag.isRaised)
        _ = try channel.finish()
    }

    @Test func aRefusedSTARTTLSDoesNotSealTheConnection() throws {
        let (channel, decoder, _, flag) = try channel()
        decoder.awaitingStartTLSReply = true
        try channel.writeInbound(ByteBuffer(string: "454 4.7.0 TLS not available\r\n250 2.0.0 next\r\n"))
        #expect(try channel.readInbound(as: SMTPReply.self)?.code == 454)
        #expect(try channel.readInbound(as: SMTPReply.self)?.code == 250)
        #expect(!flag.isRaised)
        _ = try channel.finish()
    }
}
