import Foundation

/// One header field written as RFC 5322 §2.2.3 folded lines: a CRLF goes before a space
/// that already separates two words, so unfolding (removing the CRLFs) gives back exactly the
/// field that was meant. Lines aim at 78 characters; none can pass 998 as long as no single
/// word does, which the request validator and the word makers below guarantee.
public struct HeaderField: Sendable, Equatable {
    /// A place the field may be folded: `glue` (e.g. "," or ";") is written right after the
    /// previous word, then a space (or CRLF and a space), then `text`.
    public struct Word: Sendable, Equatable {
        public var glue: String
        public var text: String

        public init(_ text: String, glue: String = "") {
            self.glue = glue
            self.text = text
        }
    }

    public static let softLimit = 78
    public static let hardLimit = 998

    public var name: String
    public var words: [Word]

    public init(_ name: String, _ words: [Word]) {
        self.name = name
        self.words = words
    }

    /// `Name: value` as unstructured text (RFC 5322 §3.2.5), foldable at each single space.
    public static func unstructured(_ name: String, _ value: String) -> HeaderField {
        HeaderField(name, value.split(separator: " ", omittingEmptySubsequences: false).map { Word(String($0)) })
    }

    /// The field's lines, each ending in CRLF.
    public var rendered: String {
        var out = name + ":"
        var line = out.utf8.count
        for (i, word) in words.enumerated() {
            let glue = i == 0 ? "" : word.glue
            let added = glue.utf8.count + 1 + word.text.utf8.count
            // Never fold before an empty word: a line of nothing but white space is forbidden.
            // The first word may go to a line of its own when it does not fit after the name
            // (RFC 5322 allows folding white space right after the colon).
            let foldable = i > 0 || 1 + word.text.utf8.count <= Self.softLimit
            if foldable, line + added > Self.softLimit, !word.text.isEmpty {
                out += glue + "\r\n " + word.text
                line = 1 + word.text.utf8.count
            } else {
                out += glue + " " + word.text
                line += added
            }
        }
        return out + "\r\n"
    }

    /// The longest line a word of `text` would make after `name: `, for the validator: a
    /// header that cannot be folded under 998 octets is refused rather than sent broken.
    public static func longestUnfoldableLine(name: String, value: String) -> Int {
        let longestWord = value.split(separator: " ").map(\.utf8.count).max() ?? 0
        return max(name.utf8.count + 2 + longestWord, 1 + longestWord)
    }
}

/// RFC 2047 encoded-words for header text that is not ASCII.
public enum EncodedWord {
    /// UTF-8 bytes per word: 45 bytes are 60 base64 characters, and `=?UTF-8?B?` + 60 + `?=`
    /// is 72, inside the 75 RFC 2047 §2 allows.
    static let bytesPerWord = 45

    /// `text` as a sequence of encoded-words, each of whole UTF-8 characters (scalars are
    /// never split across words, RFC 2047 §5), separated by folding points.
    /// `firstLineRoom`: characters left on the field's first line, so the first word fits there.
    public static func words(_ text: String, firstLineRoom: Int = 75) -> [HeaderField.Word] {
        var words: [HeaderField.Word] = []
        var chunk: [UInt8] = []
        // 12 characters of `=?UTF-8?B??=`; 4 base64 characters per 3 bytes.
        let firstLimit = min(bytesPerWord, max(3, (firstLineRoom - 1 - 12) / 4 * 3))
        for scalar in text.unicodeScalars {
            let bytes = Array(String(scalar).utf8)
            if chunk.count + bytes.count > (words.isEmpty ? firstLimit : bytesPerWord) {
                words.append(.init(encode(chunk)))
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty || words.isEmpty { words.append(.init(encode(chunk))) }
        return words
    }

    static func encode(_ bytes: [UInt8]) -> String { "=?UTF-8?B?\(Data(bytes).base64EncodedString())?=" }
}

/// RFC 2231 parameter values (`filename*0*=UTF-8''…`), for names that are not short ASCII.
public enum ExtendedParameter {
    /// RFC 2231 §7 attribute-char: what may stand unencoded in an extended value.
    static func isAttributeChar(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: "!#$&+-.^_`|~".utf8.contains(b)
        }
    }

    /// Keeps `filename*0*=UTF-8''` and a segment on one line of at most 78.
    static let segmentLength = 48

    /// `name="value"` for short printable ASCII, else `name*=UTF-8''…` split into numbered
    /// continuations of at most 60 characters, never inside a `%XX`.
    public static func words(_ name: String, _ value: String) -> [HeaderField.Word] {
        let plainASCII = value.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7F } && value.utf8.count <= segmentLength
        if plainASCII {
            let quoted = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return [.init("\(name)=\"\(quoted)\"", glue: ";")]
        }
        var segments: [String] = []
        var current = ""
        for b in value.utf8 {
            let piece = isAttributeChar(b) ? String(UnicodeScalar(b)) : String(format: "%%%02X", b)
            if current.utf8.count + piece.utf8.count > segmentLength {
                segments.append(current)
                current = ""
            }
            current += piece
        }
        segments.append(current)
        if segments.count == 1 { return [.init("\(name)*=UTF-8''\(segments[0])", glue: ";")] }
        return segments.enumerated().map { i, s in
            .init(i == 0 ? "\(name)*0*=UTF-8''\(s)" : "\(name)*\(i)*=\(s)", glue: ";")
        }
    }
}
