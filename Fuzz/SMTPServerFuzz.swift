/// libFuzzer harness: any bytes a submission client might send, cut at a point the input
/// chooses, through `SMTPServerFramer` and `SMTPServerStateMachine`, with every backend step
/// answered. Nothing may crash; every reply must be one or more well-formed reply lines
/// (three digits, then a space or a hyphen) ending the way the driver writes them; the
/// framer may never hold more than a line's worth of command bytes; and a message reaches
/// `submit` only after authentication, MAIL, at least one RCPT and DATA.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSMTPServer(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    guard let first = input.first else { return 0 }
    // The first byte picks the configuration and where the input is split into two reads.
    let tlsFirst = first & 1 == 1
    let split = input.count > 1 ? Int(first) % input.count : 0
    var configuration = SMTPServerStateMachine.Configuration(
        hostname: "fuzz.test", startTLSAvailable: !tlsFirst, plaintextAuthAllowed: first & 2 == 2,
        normalizeAddress: { $0.contains("@") && !$0.contains(" ") ? $0 : nil })
    configuration.maxRecipients = 3
    configuration.maxMessageSize = 4096
    var machine = SMTPServerStateMachine(configuration: configuration, implicitTLS: tlsFirst)
    var framer = SMTPServerFramer(maxMessageSize: configuration.maxMessageSize)
    var authenticated = false
    var closed = false

    func check(_ actions: [SMTPServerStateMachine.Action]) -> [SMTPServerStateMachine.Event] {
        var follow: [SMTPServerStateMachine.Event] = []
        for action in actions {
            switch action {
            case .reply(let text):
                for line in text.split(separator: "\r\n", omittingEmptySubsequences: false) {
                    let bytes = Array(line.utf8)
                    precondition(bytes.count >= 4, "short reply line \(line)")
                    precondition(bytes[0...2].allSatisfy { $0 >= 0x30 && $0 <= 0x39 }, "reply without a code: \(line)")
                    precondition(bytes[3] == 0x20 || bytes[3] == 0x2D, "reply code not followed by space or hyphen")
                    precondition(!bytes.contains(0x0A) && !bytes.contains(0x0D), "line break inside a reply line")
                }
            case .authenticate(let password):
                // Every other attempt succeeds, so both paths are explored.
                let ok = password.utf8.count % 2 == 0
                if ok { authenticated = true }
                follow.append(ok ? .authenticated : .authenticationFailed)
            case .authorize:
                precondition(authenticated, "authorize before authentication")
                follow.append(.authorized)
            case .receiveMessage: framer.beginMessage()
            case .submit(let envelope):
                precondition(authenticated, "a message submitted without authentication")
                precondition(!envelope.recipients.isEmpty && envelope.recipients.count <= 3, "recipients out of bounds")
                precondition(envelope.data.count <= 4096, "message over the size limit")
                follow.append(.submitted(queueID: "Q"))
            case .startTLS:
                framer.discardBuffered()
                follow.append(.tlsEstablished)
                authenticated = false
            case .close: closed = true
            }
        }
        return follow
    }

    var pending = check(machine.handle(.connected))
    for chunk in [input[1..<max(1, split)], input[max(1, split)...]] {
        framer.feed(chunk)
        while !closed {
            if let event = pending.first {
                pending.removeFirst()
                pending += check(machine.handle(event))
                continue
            }
            guard machine.acceptsFrames else { break }
            framer.maxLineLength = machine.lineLimit
            guard let frame = framer.next() else { break }
            pending += check(machine.handle(.frame(frame)))
        }
        precondition(closed || machine.phase == .data || framer.bufferedBytes <= 12_288 + 65_536, "framer holds too much")
    }
    return 0
}
