import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing

@testable import SealpostCore
@testable import SealpostSMTP

/// What a receiving server reads, write by write, from a session of three messages whose
/// outcomes take a while to be stored: one read per message (its body, its `.` and the next
/// message's envelope), and no `.` before the previous message's outcome is stored.
@Suite struct PipelinedWireTests {
    @Test func oneWritePerMessageAndNoDotBeforeTheLastOutcomeIsStored() async throws {
        let sink = try await SMTPSink()
        defer { Task { await sink.close() } }
        let messages = (1...3).map { i in
            OutboundMessage(
                id: "m\(i)", mailFrom: "a@sender.test", recipients: ["r\(i)@sink.test"],
                content: Array("Subject: \(i)\r\n\r\nbody \(i)\r\n".utf8))
        }
        let log = sink.log
        // The "store" of each outcome completes 20 ms later; the sink notes how many were stored.
        let onMessage: SMTPDeliveryClient.MessageDone = { _, _, _, eventLoop in
            eventLoop.scheduleTask(in: .milliseconds(20)) { log.mark.add(1, ordering: .sequentiallyConsistent) }.futureResult
        }
        let outcome = await SMTPDeliveryClient(heloName: "client.test", evaluator: .system).deliver(
            messages, host: "127.0.0.1", port: sink.port, policy: PolicySet([EnforcedTLSPolicy(settings: .default)]),
            logger: Logger(label: "test"), onMessage: onMessage)
        guard case .completed(_, let results) = outcome else {
            Issue.record("not completed: \(outcome)")
            return
        }
        let accepted = RecipientResult.delivered(SMTPReply(code: 250, lines: ["2.0.0 accepted by sink"]))
        #expect(results == [[accepted], [accepted], [accepted]])

        let body = { (i: Int) in "Subject: \(i)\r\n\r\nbody \(i)\r\n.\r\n" }
        let envelope = { (i: Int) in "MAIL FROM:<a@sender.test>\r\nRCPT TO:<r\(i)@sink.test>\r\nDATA\r\n" }
        let reads = log.reads.withLock { $0 }.map { (String(decoding: $0.bytes, as: UTF8.self), $0.mark) }
        #expect(
            reads.map(\.0) == [
                "EHLO client.test\r\n", envelope(1), body(1) + envelope(2), body(2) + envelope(3), body(3), "QUIT\r\n",
            ])
        // The `.` of message 2 is read only after message 1's outcome was stored, and so on.
        #expect(reads.count == 6 && reads[3].1 >= 1 && reads[4].1 >= 2, "\(reads.map(\.1))")
    }
}
