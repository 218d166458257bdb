import Foundation

/// Turns one personalization of a mail-send request into an RFC 5322 message.
///
/// Composed once at intake, so every retry sends exactly the same bytes and the queue holds
/// no request that could later fail to render.
public struct MessageComposer: Sendable {
    public var heloName: String

    public init(heloName: String) { self.heloName = heloName }

    /// Headers a request may not set: the composer writes them itself.
    public static let reservedHeaders: Set<String> = [
        "from", "to", "cc", "bcc", "subject", "date", "message-id", "mime-version", "content-type",
        "content-transfer-encoding", "reply-to", "received", "return-path",
    ]

    public func compose(_ request: MailRequest, personalization p: MailPersonalization, messageID: String, date: Date) -> [UInt8] {
        compose(request, personalization: p, messageID: messageID, dateHeader: Self.rfc5322Date(date))
    }

    /// `dateHeader` already formatted: a request with many personalizations formats it once.
    public func compose(_ request: MailRequest, personalization p: MailPersonalization, messageID: String, dateHeader: String) -> [UInt8] {
        var headers: [HeaderField] = []
        headers.append(Self.addressField("From", [p.from ?? request.from]))
        headers.append(Self.addressField("To", p.to))
        if !p.cc.isEmpty { headers.append(Self.addressField("Cc", p.cc)) }
        if !request.replyTo.isEmpty { headers.append(Self.addressField("Reply-To", request.replyTo)) }
        headers.append(Self.textField("Subject", p.subject ?? request.subject ?? ""))
        headers.append(HeaderField("Date", [.init(dateHeader)]))
        headers.append(HeaderField("Message-ID", [.init("<\(messageID)>")]))
        headers.append(HeaderField("MIME-Version", [.init("1.0")]))
        // Request-level headers first, then the personalization's, which override them. The
        // validator has refused reserved names, so none is dropped here.
        var custom = request.headers
        for (k, v) in p.headers { custom[k] = v }
        for name in custom.keys.sorted() where !Self.reservedHeaders.contains(name.lowercased()) {
            headers.append(Self.textField(name, custom[name] ?? ""))
        }
        let root = MIMEPart.tree(for: request, boundarySeed: String(messageID.prefix(22)))
        var text = headers.map(\.rendered).joined()
        text += root.rendered(asMessageRoot: true)
        return Array(text.utf8)
    }

    /// An address list folded between addresses and between the words of display names.
    static func addressField(_ name: String, _ addresses: [MailAddress]) -> HeaderField {
        var words: [HeaderField.Word] = []
        for (i, address) in addresses.enumerated() {
            var own = displayName(address.name)
            own.append(.init(own.isEmpty ? address.email : "<\(address.email)>"))
            if i > 0 { own[0].glue = "," }
            words += own
        }
        return HeaderField(name, words)
    }

    /// RFC 5322 §3.2.5 phrase words: atoms as they are, other ASCII as one quoted-string (when
    /// short), and anything else as encoded-words, which can be folded anywhere.
    static func displayName(_ raw: String?) -> [HeaderField.Word] {
        guard let raw, !raw.isEmpty else { return [] }
        let name = oneLine(raw)
        if name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == " ") }), !name.hasPrefix(" "), !name.hasSuffix(" "),
            !name.contains("  "), !name.isEmpty
        {
            return name.split(separator: " ").map { .init(String($0)) }
        }
        if name.allSatisfy(\.isASCII), name.utf8.count <= 60 {
            let quoted = name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return [.init("\"\(quoted)\"")]
        }
        return EncodedWord.words(name)
    }

    /// Unstructured text (Subject, custom headers): ASCII folded at its spaces, non-ASCII as
    /// encoded-words. A Subject whose words cannot be folded under 998 octets is written as
    /// encoded-words too, which decode to the same text.
    static func textField(_ name: String, _ value: String) -> HeaderField {
        let clean = oneLine(value)
        if clean.allSatisfy(\.isASCII), HeaderField.longestUnfoldableLine(name: name, value: clean) <= HeaderField.hardLimit {
            return .unstructured(name, clean)
        }
        return HeaderField(name, EncodedWord.words(clean, firstLineRoom: HeaderField.softLimit - name.utf8.count - 1))
    }

    /// Header text with every CR and LF turned into a space (checked on scalars: "\r\n" is a
    /// single `Character`), so no request field can start a header of its own.
    static func oneLine(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { $0 == "\r" || $0 == "\n" ? " " : $0 }))
    }

    /// 7bit when the text is ASCII with short lines, base64 otherwise.
    static func encodeBody(_ text: String) -> (String, String) {
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        if text.allSatisfy(\.isASCII), lines.allSatisfy({ $0.utf8.count <= 998 }) {
            return ("7bit", lines.joined(separator: "\r\n"))
        }
        return ("base64", base64Lines(Array(text.utf8)))
    }

    static func base64Lines(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
    }

    public static func rfc5322Date(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return f.string(from: date)
    }
}
