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
                } else if s.utf8.count > 255 {
                    fail("\(field).filename", "The filename of your attachment must be at most 255 bytes.")
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
                let inner = s.hasPrefix("<") && s.hasSuffix(">") && s.count >= 2 ? String(s.dropFirst().dropLast()) : s
                if inner.isEmpty || inner.utf8.count > 250
                    || !inner.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && !"<>;\\\"".utf8.contains($0) })
                {
                    fail("\(field).content_id", "The content ID of your attachment can't contain CRLF characters.")
                    ok = false
                } else {
                    contentID = inner
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

    /// Standard base64 (RFC 4648 §4) with its padding; line breaks and spaces between the
    /// characters are allowed (MIME-wrapped input), nothing else.
    static func decodeBase64(_ s: String) -> [UInt8]? {
        var compact: [UInt8] = []
        compact.reserveCapacity(s.utf8.count)
        for b in s.utf8 where b != 0x0D && b != 0x0A && b != 0x20 && b != 0x09 { compact.append(b) }
        guard !compact.isEmpty, compact.count % 4 == 0, let data = Data(base64Encoded: Data(compact)) else { return nil }
        return Array(data)
    }
}
