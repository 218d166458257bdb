import Logging
import NIOCore
import NIOEmbedded
import Testing

@testable import SealpostCore
@testable import SealpostSMTP

/// TLS reporting names the addresses of each failed session (`sending-mta-ip`,
/// `receiving-ip`). A session refused right after EHLO ends, and NIO forgets a closed
/// channel's addresses, possibly before the task that made the connection runs again: the
/// conversation takes them when it begins, on the open channel.
@Suite struct SessionEndpointsTests {
    static let message = OutboundMessage(
        id: "m1", mailFrom: "a@sender.test", recipients: ["r@sink.test"], content: Array("Subject: x\r\n\r\nx\r\n".utf8))
    static let required = PolicySet([
        EnforcedTLSPolicy(settings: EnforcedTLSSettings(requireTLS: true, requireValidCert: false, version: .v1_2))
    ])

    @Test func theConversationTakesTheAddressesWhileTheChannelIsOpen() throws {
        let channel = EmbeddedChannel()
        channel.localAddress = try SocketAddress(ipAddress: "192.0.2.7", port: 40_000)
        let endpoints = SessionEndpoints()
        let result = channel.eventLoop.makePromise(of: SMTPDeliveryClient.Attempt.self)
        let injection = InjectionFlag()
        try channel.pipeline.syncOperations.addHandler(SMTPLineFramer())
        try channel.pipeline.syncOperations.addHandler(SMTPReplyDecoder(injectionFlag: injection))
        try channel.pipeline.syncOperations.addHandler(
            SMTPConversationHandler(
                machine: SMTPClientStateMachine(
                    messages: [Self.message], heloName: "client.test", mxHost: "mx.test", policy: Self.required, useTLS: true),
                timeouts: SMTPTimeouts(), host: "mx.test", injection: injection, onMessage: nil,
                judgeTLS: { _, _ in fatalError("no TLS in this session") }, logger: Logger(label: "test"), result: result,
                endpoints: endpoints))
        try channel.connect(to: SocketAddress(ipAddress: "198.51.100.25", port: 25)).wait()
        try channel.writeInbound(ByteBuffer(string: "220 mx.test ESMTP\r\n"))
        #expect(try channel.readOutbound(as: ByteBuffer.self).map { String(buffer: $0) } == "EHLO client.test\r\n")
        // No STARTTLS offered: the policy refuses, and the session ends with the channel closed.
        try channel.writeInbound(ByteBuffer(string: "250-mx.test\r\n250 PIPELINING\r\n"))
        #expect(!channel.isActive)
        guard case .done(.policyRefused(let refusal, _)) = try result.futureResult.wait() else {
            Issue.record("not refused")
            return
        }
        #expect(refusal.failure == .starttlsNotSupported)
        #expect(endpoints.local == "192.0.2.7" && endpoints.remote == "198.51.100.25")
    }

    /// Over a real socket, `deliver` hands its `endpoints` down to the conversation.
    @Test func aRefusedDeliveryKnowsItsAddresses() async throws {
        let sink = try await SMTPSink()
        defer { Task { await sink.close() } }
        let endpoints = SessionEndpoints()
        let outcome = await SMTPDeliveryClient(heloName: "client.test", evaluator: .system).deliver(
            [Self.message], host: "127.0.0.1", port: sink.port, policy: Self.required, logger: Logger(label: "test"),
            endpoints: endpoints)
        guard case .policyRefused = outcome else {
            Issue.record("not refused: \(outcome)")
            return
        }
        #expect(endpoints.local == "127.0.0.1" && endpoints.remote == "127.0.0.1")
    }
}
