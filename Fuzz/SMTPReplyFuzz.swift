/// libFuzzer harness: the input is what a receiving server sends. It is framed the way
/// `SMTPLineFramer` frames it (LF ends a line, a CR before it is dropped, lines over 4 KiB
/// end the session) and fed to `SMTPReplyParser`, exactly as the SMTP client does.
/// Every reply that comes out must keep the parser's promises; a broken promise traps,
/// and libFuzzer reports the input.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSMTPReplies(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    var parser = SMTPReplyParser()
    var start = 0
    for (i, byte) in bytes.enumerated() where byte == 0x0A {
        var end = i
        if end > start, bytes[end - 1] == 0x0D { end -= 1 }
        guard end - start <= 4096 else { return 0 }
        let line = String(decoding: bytes[start..<end], as: UTF8.self)
        start = i + 1
        let reply: SMTPReply?
        do {
            reply = try parser.feed(line)
        } catch {
            // The client closes the connection on any parse error: nothing more is read.
            precondition(!String(describing: error).isEmpty)
            return 0
        }
        guard let reply else {
            precondition(parser.isInsideReply, "no reply returned outside a multi-line reply")
            continue
        }
        precondition((200...599).contains(reply.code), "reply code \(reply.code) outside 2xx-5xx")
        precondition(!reply.lines.isEmpty && reply.lines.count <= SMTPReplyParser.maxLines)
        precondition(!parser.isInsideReply, "parser state not reset after a complete reply")
        let classes = [reply.isPositiveCompletion, reply.isPositiveIntermediate, reply.isTransientFailure, reply.isPermanentFailure]
        precondition(classes.filter { $0 }.count == 1, "a reply belongs to exactly one class")
        if let status = reply.enhancedStatus {
            precondition(status.first == String(reply.code / 100).first, "enhanced status class differs from the code's")
        }
        let capabilities = SMTPCapabilities(ehlo: reply)
        if let limit = capabilities.sizeLimit { precondition(limit > 0) }
    }
    return 0
}
