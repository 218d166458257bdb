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
        var headers: [(String, String)] = []
        headers.append(("From", Self.format(request.from)))
        headers.append(("To", p.to.map(Self.format).joined(separator: ", ")))
        if !p.cc.isEmpty { headers.append(("Cc", p.cc.map(Self.format).joined(separator: ", "))) }
        if let replyTo = request.replyTo { headers.append(("Reply-To", Self.format(replyTo))) }
        headers.append(("Subject", Self.encodeWord(p.subject ?? request.subject ?? "")))
        headers.append(("Date", dateHeader))
        headers.append(("Message-ID", "<\(messageID)>"))
        headers.append(("MIME-Version", "1.0"))
        // Request-level headers first, then the personalization's, which override them.
        var custom = request.headers
        for (k, v) in p.headers { custom[k] = v }
        for name in custom.keys.sorted() where !Self.reservedHeaders.contains(name.lowercased()) {
            headers.append((name, Self.encodeWord(custom[name] ?? "")))
        }

        var body = ""
        // SendGrid's order, which mail clients expect of multipart/alternative (the last part
        // they can show wins): text/plain first, text/html last, any other type between them
        // in the order given. A type given twice is kept twice: nothing a request holds is dropped.
        let plain = request.content.filter { $0.type.lowercased() == "text/plain" }
        let html = request.content.filter { $0.type.lowercased() == "text/html" }
        let others = request.content.filter { !["text/plain", "text/html"].contains($0.type.lowercased()) }
        let parts = plain + others + html
        if parts.count == 1, let only = parts.first {
            let (cte, encoded) = Self.encodeBody(only.value)
            headers.append(("Content-Type", "\(only.type); charset=utf-8"))
            headers.append(("Content-Transfer-Encoding", cte))
            body = encoded
        } else {
            let boundary = "sealpost-\(messageID.prefix(22))"
            headers.append(("Content-Type", "multipart/alternative; boundary=\"\(boundary)\""))
            for part in parts {
                let (cte, encoded) = Self.encodeBody(part.value)
                body +=
                    "--\(boundary)\r\nContent-Type: \(part.type); charset=utf-8\r\nContent-Transfer-Encoding: \(cte)\r\n\r\n\(encoded)\r\n"
            }
            body += "--\(boundary)--\r\n"
        }
        var text = headers.map { "\($0.0): \($0.1)\r\n" }.joined()
        text += "\r\n" + body
        return Array(text.utf8)
    }

    /// Header text with every CR and LF turned into a space (checked on scalars: "\r\n" is a
    /// single `Character`), so no request field can start a header of its own.
    static func oneLine(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { $0 == "\r" || $0 == "\n" ? " " : $0 }))
    }

    static func format(_ address: MailAddress) -> String {
        guard let raw = address.name, !raw.isEmpty else { return address.email }
        let name = oneLine(raw)
        if name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == " ") }) {
            return "\(name) <\(address.email)>"
        }
        if name.allSatisfy(\.isASCII) {
            let quoted = name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            return "\"\(quoted)\" <\(address.email)>"
        }
        return "\(encodeWord(name)) <\(address.email)>"
    }

    /// RFC 2047 encoded-word for non-ASCII header text; ASCII passes through.
    static func encodeWord(_ text: String) -> String {
        let clean = oneLine(text)
        if clean.allSatisfy(\.isASCII) { return clean }
        return "=?UTF-8?B?\(Data(clean.utf8).base64EncodedString())?="
    }

    /// 7bit when the text is ASCII with short lines, base64 otherwise.
    static func encodeBody(_ text: String) -> (String, String) {
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        if text.allSatisfy(\.isASCII), lines.allSatisfy({ $0.utf8.count <= 998 }) {
            return ("7bit", lines.joined(separator: "\r\n"))
        }
        let b64 = Data(text.utf8).base64EncodedString(options: [.lineLength76Characters, .endLineWithCarriageReturn, .endLineWithLineFeed])
        return ("base64", b64)
    }

    public static func rfc5322Date(_ date: Date) -> String {
        let f = DateFormatter()
        f.locale = Locale(identifier: "en_US_POSIX")
        f.timeZone = TimeZone(identifier: "UTC")
        f.dateFormat = "EEE, dd MMM yyyy HH:mm:ss '+0000'"
        return f.string(from: date)
    }
}
