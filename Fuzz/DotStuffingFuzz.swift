/// libFuzzer harness: any message body, through `dotStuffed`, must come out as a DATA
/// payload that ends exactly once (no "CRLF . CRLF" before the terminator, whatever CR/LF
/// mix the input holds) and that un-stuffs back to the input with line ends made CRLF.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDotStuffing(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    let out = dotStuffed(input)
    let terminator: [UInt8] = [0x2E, 0x0D, 0x0A]
    precondition(out.count >= 3 && Array(out.suffix(3)) == terminator, "DATA does not end with .CRLF")
    let payload = Array(out.dropLast(3))

    // Lines of the payload: every one ends in CRLF, no CR or LF anywhere else.
    var lines: [[UInt8]] = []
    var current: [UInt8] = []
    var i = 0
    while i < payload.count {
        let b = payload[i]
        if b == 0x0D {
            precondition(i + 1 < payload.count && payload[i + 1] == 0x0A, "bare CR in DATA")
            lines.append(current)
            current = []
            i += 2
            continue
        }
        precondition(b != 0x0A, "bare LF in DATA")
        current.append(b)
        i += 1
    }
    precondition(current.isEmpty, "last line before the terminator lacks CRLF")
    for line in lines {
        precondition(line != [0x2E], "a lone '.' line would end DATA early")
        if line.first == 0x2E { precondition(line.count >= 2 && line[1] == 0x2E, "leading dot not doubled") }
    }

    // Un-stuffed, it is the input with every CR, LF or CRLF turned into CRLF.
    var normalized: [UInt8] = []
    var j = 0
    while j < input.count {
        let b = input[j]
        if b == 0x0D || b == 0x0A {
            normalized += [0x0D, 0x0A]
            if b == 0x0D, j + 1 < input.count, input[j + 1] == 0x0A { j += 1 }
        } else {
            normalized.append(b)
        }
        j += 1
    }
    if let last = normalized.last, last != 0x0A { normalized += [0x0D, 0x0A] }
    let unstuffed = lines.flatMap { line -> [UInt8] in (line.first == 0x2E ? Array(line.dropFirst()) : line) + [0x0D, 0x0A] }
    precondition(unstuffed == normalized, "un-stuffed DATA differs from the input")
    return 0
}
