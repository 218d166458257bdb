/// One complete SMTP reply (RFC 5321 §4.2), possibly multi-line.
public struct SMTPReply: Sendable, Equatable {
    public var code: Int
    /// The text of every line, without the code and separator.
    public var lines: [String]
    /// Sealpost's own verdict in a reply's shape (`SMTPReply.local`), not a server's answer: a
    /// local refusal (no SMTPUTF8, over the size limit) says nothing about the address, so it
    /// never puts it on the bounce list.
    public var isLocal = false

    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines
    }

    public var isPositiveCompletion: Bool { (200..<300).contains(code) }
    public var isPositiveIntermediate: Bool { (300..<400).contains(code) }
    public var isTransientFailure: Bool { (400..<500).contains(code) }
    public var isPermanentFailure: Bool { (500..<600).contains(code) }

    /// RFC 3463 enhanced status code (`5.7.1`) at the start of the first line, if any.
    /// Its class must be the reply's (RFC 2034 §4): `250 5.7.1` carries none, since a
    /// bounce reason must not say "permanent" for a reply that is not (found by fuzzing).
    public var enhancedStatus: String? {
        guard let first = lines.first, let token = first.split(separator: " ", maxSplits: 1).first else { return nil }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let cls = parts[0].first, "245".contains(cls), parts[0].count == 1,
            cls.wholeNumberValue == code / 100,
            parts[1].count >= 1, parts[1].count <= 3, parts[2].count >= 1, parts[2].count <= 3,
            parts[1].allSatisfy(\.isASCIIDigit), parts[2].allSatisfy(\.isASCIIDigit)
        else { return nil }
        return String(token)
    }

    /// `550 5.1.1 user unknown`, for logs and bounce reasons.
    public var summary: String {
        "\(code) \(lines.joined(separator: " "))".trimmingTrailingSpaces
    }
}

public enum SMTPReplyError: Error, Equatable, CustomStringConvertible {
    case malformedLine(String)
    case codeChanged(expected: Int, got: Int)
    case tooManyLines(Int)

    public var description: String {
        switch self {
        case .malformedLine(let line): "malformed SMTP reply line: \(line.prefix(80))"
        case .codeChanged(let expected, let got): "reply code changed inside a multi-line reply (\(expected) then \(got))"
        case .tooManyLines(let n): "reply longer than \(n) lines"
        }
    }
}

/// Assembles reply lines (already split at CRLF by the framing layer) into replies.
///
/// Kept apart from the connection so it can be unit-tested and fuzzed: it must reject
/// anything that is not `DDD` followed by `-`, space or end of line, and bound the number of
/// lines so that a server sending an endless multi-line reply cannot grow memory.
public struct SMTPReplyParser: Sendable {
    public static let maxLines = 128
    private var code: Int?
    private var lines: [String] = []

    public init() {}

    /// Feeds one line; returns a reply when `line` completed one.
    public mutating func feed(_ line: String) throws -> SMTPReply? {
        let bytes = Array(line.utf8)
        guard bytes.count >= 3, bytes[0...2].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            (0x32...0x35).contains(bytes[0])
        else { throw SMTPReplyError.malformedLine(line) }
        let lineCode = Int(bytes[0] - 0x30) * 100 + Int(bytes[1] - 0x30) * 10 + Int(bytes[2] - 0x30)
        let separator: UInt8? = bytes.count > 3 ? bytes[3] : nil
        guard separator == nil || separator == 0x20 || separator == 0x2D else { throw SMTPReplyError.malformedLine(line) }
        if let code, code != lineCode { throw SMTPReplyError.codeChanged(expected: code, got: lineCode) }
        code = lineCode
        lines.append(bytes.count > 4 ? String(decoding: bytes[4...], as: UTF8.self) : "")
        if lines.count > Self.maxLines { throw SMTPReplyError.tooManyLines(Self.maxLines) }
        guard separator != 0x2D else { return nil }
        defer {
            code = nil
            lines = []
        }
        return SMTPReply(code: lineCode, lines: lines)
    }

    /// True between the first and last line of a multi-line reply.
    public var isInsideReply: Bool { code != nil }
}

/// The extensions a server announced in its EHLO reply.
public struct SMTPCapabilities: Sendable, Equatable {
    public var keywords: Set<String>
    public var sizeLimit: Int?

    public init(ehlo reply: SMTPReply) {
        var keywords = Set<String>()
        var size: Int?
        // The first line is the server's greeting name, not an extension.
        for line in reply.lines.dropFirst() {
            let parts = line.split(separator: " ")
            guard let keyword = parts.first?.uppercased() else { continue }
            keywords.insert(keyword)
            if keyword == "SIZE", parts.count > 1, let n = Int(parts[1]), n > 0 { size = n }
        }
        self.keywords = keywords
        self.sizeLimit = size
    }

    public init(keywords: Set<String> = [], sizeLimit: Int? = nil) {
        self.keywords = keywords
        self.sizeLimit = sizeLimit
    }

    public var startTLS: Bool { keywords.contains("STARTTLS") }
    public var pipelining: Bool { keywords.contains("PIPELINING") }
    public var eightBitMIME: Bool { keywords.contains("8BITMIME") }
    public var smtpUTF8: Bool { keywords.contains("SMTPUTF8") }
    public var requireTLS: Bool { keywords.contains("REQUIRETLS") }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}

extension String {
    var trimmingTrailingSpaces: String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
