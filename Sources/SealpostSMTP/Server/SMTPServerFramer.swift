/// The bytes a submission client sends, cut into what the server state machine reads:
/// command lines (at most 512 octets with CRLF, RFC 5321 §4.5.3.1.4) and, after `354`, one
/// message (dot-unstuffed, RFC 5321 §4.5.2) bounded by the SIZE limit.
///
/// Pure, so it is tested and fuzzed without sockets. Memory is bounded: an over-long line is
/// dropped as it arrives, and a message past the limit is counted, not kept.
public struct SMTPServerFramer: Sendable {
    public enum Frame: Equatable, Sendable {
        case line([UInt8])
        case lineTooLong
        /// The message as received, without the terminating `.` line, dot-unstuffed.
        case message([UInt8])
        case messageTooLarge
    }

    public var maxLineLength = 512
    public var maxMessageSize: Int
    private var buffer: [UInt8] = []
    private var start = 0
    private var inData = false
    private var discardingLine = false
    // DATA state
    private var message: [UInt8] = []
    private var messageSize = 0
    private var atLineStart = true
    /// The last byte read of the message, for a CRLF split across reads.
    private var previousByte: UInt8 = 0x0A

    public init(maxMessageSize: Int) { self.maxMessageSize = maxMessageSize }

    /// Bytes received and not yet framed (must be none when TLS starts, RFC 3207 §4.2).
    public var bufferedBytes: Int { buffer.count - start }

    public mutating func feed<C: Collection<UInt8>>(_ bytes: C) {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        } else if start > 65_536 {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// Drops everything buffered (plaintext sent after STARTTLS, before the handshake).
    public mutating func discardBuffered() {
        buffer.removeAll(keepingCapacity: true)
        start = 0
        discardingLine = false
    }

    /// The next message is read from here on (after the state machine answered `354`).
    public mutating func beginMessage() {
        inData = true
        message = []
        messageSize = 0
        atLineStart = true
        previousByte = 0x0A
    }

    /// The next complete frame, or nil until more bytes arrive.
    public mutating func next() -> Frame? {
        inData ? nextMessage() : nextLine()
    }

    private mutating func nextLine() -> Frame? {
        guard let lf = buffer[start...].firstIndex(of: 0x0A) else {
            if buffer.count - start > maxLineLength {
                // No end in sight: forget the bytes, remember to answer once the line ends.
                discardingLine = true
                buffer.removeAll(keepingCapacity: true)
                start = 0
            }
            return nil
        }
        var end = lf
        if end > start && buffer[end - 1] == 0x0D { end -= 1 }
        let line = Array(buffer[start..<end])
        let length = lf + 1 - start
        start = lf + 1
        if discardingLine {
            discardingLine = false
            return .lineTooLong
        }
        return length > maxLineLength ? .lineTooLong : .line(line)
    }

    private mutating func nextMessage() -> Frame? {
        while start < buffer.count {
            let lf = buffer[start...].firstIndex(of: 0x0A)
            if atLineStart {
                // The terminator is exactly ".\r\n" at the start of a line; a bare LF never
                // ends the message (SMTP smuggling).
                if buffer[start] == UInt8(ascii: ".") {
                    let available = buffer.count - start
                    if available < 3 && (available < 2 || buffer[start + 1] == 0x0D) { return nil }
                    if available >= 3 && buffer[start + 1] == 0x0D && buffer[start + 2] == 0x0A {
                        start += 3
                        inData = false
                        let tooLarge = messageSize > maxMessageSize
                        let done = message
                        message = []
                        return tooLarge ? .messageTooLarge : .message(done)
                    }
                    start += 1  // dot-unstuffing: the first dot of a line is not content
                    previousByte = UInt8(ascii: ".")
                }
            }
            let end = lf.map { $0 + 1 } ?? buffer.count
            append(buffer[start..<end])
            // Lines end in CRLF: after a bare LF the next byte is not the start of a line.
            if let lf {
                atLineStart = (lf > start ? buffer[lf - 1] : previousByte) == 0x0D
            } else {
                atLineStart = false
            }
            if end > start { previousByte = buffer[end - 1] }
            start = end
        }
        return nil
    }

    private mutating func append(_ bytes: ArraySlice<UInt8>) {
        messageSize += bytes.count
        if messageSize <= maxMessageSize { message.append(contentsOf: bytes) } else if !message.isEmpty { message = [] }
    }
}
