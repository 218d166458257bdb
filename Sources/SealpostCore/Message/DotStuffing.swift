/// Prepares a message for the DATA phase (RFC 5321 §4.5.2): every line ends in CRLF, a line
/// starting with "." gets a second one, and the terminating `.` line is appended.
///
/// Bare CR or LF in the input become CRLF, so no sequence in the body can ever end DATA early
/// (the "SMTP smuggling" class of bugs).
public func dotStuffed(_ message: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(message.count + message.count / 64 + 8)
    var atLineStart = true
    var i = 0
    while i < message.count {
        let byte = message[i]
        if byte == 0x0D || byte == 0x0A {
            out.append(0x0D)
            out.append(0x0A)
            // CRLF counts once; a lone CR or LF is a line end of its own.
            if byte == 0x0D, i + 1 < message.count, message[i + 1] == 0x0A { i += 1 }
            atLineStart = true
        } else {
            if atLineStart && byte == 0x2E { out.append(0x2E) }
            out.append(byte)
            atLineStart = false
        }
        i += 1
    }
    if !atLineStart {
        out.append(0x0D)
        out.append(0x0A)
    }
    out.append(contentsOf: [0x2E, 0x0D, 0x0A])
    return out
}
