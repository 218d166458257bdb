import Foundation

extension MailRequestValidator {
    static let attachmentContentMessage = "The attachment content must be base64 encoded."
    static let attachmentEmptyMessage = "The attachment content must be a string at least one character in length."

    /// `attachments[]` checked with SendGrid's texts, each problem naming `attachments.N.field`;
    /// the content decoded once here, so what is queued is exactly the bytes that were sent.
    static func attachments(_ value: PatchField<[Element<AttachmentBody>]>, into errors: inout [FieldError]) -> [MailAttachment] {
        func fail(_ field: String, _ message: String) { errors.append(.init(field: field, message: message)) }
        let items: [Element<AttachmentBody>]
        switch value {
        case .absent: return []
        case .invalid:
            fail("attachments", "attachments must be an array of attachment objects.")
            return []
        case .value(let v): items = v
        }
        var out: [MailAttachment] = []
        for (i, item) in items.enumerated() {
            let field = "attachments.\(i)"
            guard case .value(let a) = item else {
                fail(field, "Each attachment must be an object.")
                continue
            }
            var ok = true
            var bytes: [UInt8] = []
            switch a.content {
            case .value(let s) where !s.isEmpty:
                if let decoded = decodeBase64(s) {
                    bytes = decoded
                } else {
                    fail("\(field).content", attachmentContentMessage)
                    ok = false
                }
            default:
                fail("\(field).content", attachmentEmptyMessage)
                ok = false
            }
            var filename = ""
            switch a.filename {
            case .value(let s) where !s.isEmpty:
                if s.hasLineBreak {
                    fail("\(field).filename", "The filename of your attachment can't contain CRLF characters.")
                    ok = false
                } else if s.unicodeScalars.count > 255 {
                    fail("\(field).filename", "The filename of your attachment must be at most 255 characters.")
                    ok = false
                } else {
                    filename = s
                }
            case .invalid(let t) where t != "null":
                fail("\(field).filename", "The filename of your attachment must be a string.")
                ok = false
            default:
                fail("\(field).filename", "filename is required.")
                ok = false
            }
            var type = "application/octet-stream"
            switch a.type {
            case .absent: break
            case .value(let s) where !s.isEmpty:
                if isMediaType(s) {
                    type = s
                } else {
                    fail("\(field).type", "The type can't contain ';', or CRLF characters.")
                    ok = false
                }
            default:
                fail("\(field).type", "The attachment type must be a string and at least one character in length.")
                ok = false
            }
            var disposition = MailAttachment.Disposition.attachment
            switch a.disposition {
            case .absent: break
            case .value(let s) where MailAttachment.Disposition(rawValue: s) != nil: disposition = MailAttachment.Disposition(rawValue: s)!
            case .value(let s):
                fail(
                    "\(field).disposition",
                    "The disposition of your attachment can be either \"inline\" or \"attachment\". You provided `\(s)`.")
                ok = false
            case .invalid:
                fail("\(field).disposition", "The disposition of your attachment can be either \"inline\" or \"attachment\".")
                ok = false
            }
            var contentID: String?
            switch a.contentID {
            case .absent: break
            case .value(let s):
                // RFC 5322 msg-id characters without the angle brackets (written around it).
                if s.isEmpty || s.utf8.count > 200 || !s.utf8.allSatisfy(isContentIDChar) {
                    fail("\(field).content_id", "The content ID of your attachment can't contain CRLF characters.")
                    ok = false
                } else {
                    contentID = s
                }
            case .invalid(let t):
                fail("\(field).content_id", "The content ID of your attachment must be a string. You provided `\(t)`.")
                ok = false
            }
            if disposition == .inline, contentID == nil, ok {
                fail("\(field).content_id", "The content_id is required for an attachment with disposition inline.")
                ok = false
            }
            if ok {
                out.append(
                    MailAttachment(content: bytes, type: type, filename: filename, disposition: disposition, contentID: contentID))
            }
        }
        return out
    }

    /// RFC 5322 atext, dots and `@`: what a Content-ID holds between its brackets.
    static func isContentIDChar(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: "!#$%&'*+/=?^_`{|}~.@-".utf8.contains(b)
        }
    }

    /// Standard base64 (RFC 4648 §4): groups of four alphabet characters, `=` only as the
    /// padding of the last group; spaces and line breaks between characters are allowed
    /// (MIME-wrapped input), nothing else. Written out because Foundation's decoder accepts
    /// "====" and "AB=A"; this is exactly the pattern `/openapi.json` states.
    static func decodeBase64(_ s: String) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count / 4 * 3)
        var group: [UInt8] = []
        var padding = 0
        var finished = false
        for b in s.utf8 {
            if b == 0x0D || b == 0x0A || b == 0x20 || b == 0x09 { continue }
            if finished { return nil }
            if b == UInt8(ascii: "=") {
                // Padding: third or fourth place of a group, and nothing but more padding after it.
                guard group.count + padding >= 2 else { return nil }
                padding += 1
            } else {
                guard padding == 0, let v = base64Value(b) else { return nil }
                group.append(v)
            }
            if group.count + padding == 4 {
                out.append(group[0] << 2 | group[1] >> 4)
                if group.count > 2 { out.append(group[1] << 4 | group[2] >> 2) }
                if group.count > 3 { out.append(group[2] << 6 | group[3]) }
                finished = padding > 0
                group = []
                padding = 0
            }
        }
        guard group.isEmpty, padding == 0, !out.isEmpty || finished else { return nil }
        return out
    }

    static func base64Value(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): b - 65
        case UInt8(ascii: "a")...UInt8(ascii: "z"): b - 71
        case UInt8(ascii: "0")...UInt8(ascii: "9"): b + 4
        case UInt8(ascii: "+"): 62
        case UInt8(ascii: "/"): 63
        default: nil
        }
    }
}
