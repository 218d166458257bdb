import Foundation

/// A message received over SMTP submission, prepared for the queue: kept exactly as received
/// except that a `Received:` trace field is put on top (RFC 5321 §4.4), `Message-ID` and
/// `Date` are added only when missing (RFC 6409 §8), and SendGrid's `X-SMTPAPI` field is read
/// and removed (it is an instruction to the relay, not part of the mail).
public struct SubmittedMessage: Sendable, Equatable {
    /// What `X-SMTPAPI` asked for, of what Sealpost supports.
    public struct Instructions: Sendable, Equatable {
        public var categories: [String] = []
        public var customArgs: [String: String] = [:]
        public var sendAt: Int?

        public init() {}
    }

    /// Why a message is refused (`550 5.7.1` and this text).
    public struct Refusal: Error, Equatable, Sendable {
        public var reason: String
    }

    public var content: [UInt8]
    /// The Message-ID field's value with its angle brackets (the events' `smtp-id`).
    public var smtpID: String
    public var instructions: Instructions
    /// The first `From` field's value (unfolded), which chooses the DKIM signer.
    public var from: String?

    /// `data` as received (dot-unstuffed); `newMessageID` without brackets, used if the
    /// message has none; `received` the trace field's value.
    public static func prepare(
        _ data: [UInt8], newMessageID: String, dateHeader: String, received: String, now: Date
    ) throws(Refusal) -> SubmittedMessage {
        let headerEnd = headerBlockEnd(data)
        let fields = headerFields(data[..<headerEnd])
        var kept: [ArraySlice<UInt8>] = []
        var smtpID: String?
        var hasDate = false
        var instructions = Instructions()
        var sawAPI = false
        var from: String?
        for field in fields {
            let name = field.name.lowercased()
            switch name {
            case "x-smtpapi":
                if sawAPI { throw Refusal(reason: "more than one X-SMTPAPI header") }
                sawAPI = true
                instructions = try smtpAPI(field.unfoldedValue, now: now)
                continue
            case "message-id":
                smtpID = smtpID ?? field.unfoldedValue.trimmingCharacters(in: .whitespaces)
            case "date": hasDate = true
            case "from": from = from ?? field.unfoldedValue
            default: break
            }
            kept.append(field.raw)
        }
        var out: [UInt8] = []
        out.reserveCapacity(data.count + 256)
        out += Array("Received: \(received)\r\n".utf8)
        let id = smtpID.flatMap { $0.isEmpty ? nil : $0 } ?? "<\(newMessageID)>"
        if smtpID == nil || smtpID!.isEmpty { out += Array("Message-ID: \(id)\r\n".utf8) }
        if !hasDate { out += Array("Date: \(dateHeader)\r\n".utf8) }
        for field in kept { out += field }
        out += data[headerEnd...]
        return SubmittedMessage(content: out, smtpID: id, instructions: instructions, from: from)
    }

    /// Where the header block ends: the index of the empty line (its line break included in
    /// what follows), or the end of the message when it has no body.
    static func headerBlockEnd(_ data: [UInt8]) -> Int {
        var i = 0
        var lineStart = 0
        while i < data.count {
            if data[i] == 0x0A {
                let line = data[lineStart..<i]
                if line.isEmpty || line == [0x0D] { return lineStart }
                lineStart = i + 1
            }
            i += 1
        }
        // A last line without its line break is still a header line; nothing follows.
        return data.count
    }

    struct Field {
        var name: String
        /// The field's lines exactly as received, line breaks included.
        var raw: ArraySlice<UInt8>
        var unfoldedValue: String {
            let text = String(decoding: raw, as: UTF8.self)
            let value = text.drop(while: { $0 != ":" }).dropFirst()
            return String(value).replacingOccurrences(of: "\r\n", with: "").replacingOccurrences(of: "\n", with: "")
                .trimmingCharacters(in: .whitespaces)
        }
    }

    /// Fields of the header block, each with its continuation lines; a line that is neither
    /// a field nor a continuation is kept as its own unnamed field (received as it came).
    static func headerFields(_ block: ArraySlice<UInt8>) -> [Field] {
        var fields: [Field] = []
        var lineStart = block.startIndex
        var i = block.startIndex
        while i < block.endIndex {
            if block[i] == 0x0A || i == block.endIndex - 1 {
                let end = i + 1
                let line = block[lineStart..<end]
                if let first = line.first, (first == 0x20 || first == 0x09), !fields.isEmpty {
                    let previous = fields[fields.count - 1].raw
                    fields[fields.count - 1].raw = block[previous.startIndex..<end]
                } else {
                    let name = line.firstIndex(of: UInt8(ascii: ":")).map { String(decoding: line[lineStart..<$0], as: UTF8.self) } ?? ""
                    fields.append(Field(name: name.trimmingCharacters(in: .whitespaces), raw: line))
                }
                lineStart = end
            }
            i += 1
        }
        return fields
    }

    /// SendGrid's X-SMTPAPI keys that change the mail and that Sealpost does not implement.
    static let unsupportedKeys = ["asm_group_id", "asm_groups_to_display", "sub", "section", "send_each_at", "ip_pool", "to"]

    static func smtpAPI(_ json: String, now: Date) throws(Refusal) -> Instructions {
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(json.utf8)), case .object(let object) = value else {
            throw Refusal(reason: "X-SMTPAPI header is not a JSON object")
        }
        var out = Instructions()
        for key in object.keys.sorted() {
            guard let v = object[key] else { continue }
            switch key {
            case "category":
                switch v {
                case .string(let s): out.categories = [s]
                case .array(let items):
                    let strings = items.compactMap { if case .string(let s) = $0 { s } else { nil } }
                    guard strings.count == items.count, strings.count <= 10 else {
                        throw Refusal(reason: "X-SMTPAPI category must be a string or at most 10 strings")
                    }
                    out.categories = strings
                case .null: break
                default: throw Refusal(reason: "X-SMTPAPI category must be a string or at most 10 strings")
                }
            case "unique_args":
                guard case .object(let args) = v else {
                    if v == .null { continue }
                    throw Refusal(reason: "X-SMTPAPI unique_args must be an object of strings")
                }
                for (k, a) in args {
                    guard case .string(let s) = a else { throw Refusal(reason: "X-SMTPAPI unique_args values must be strings") }
                    out.customArgs[k] = s
                }
                if out.customArgs.reduce(0, { $0 + $1.key.utf8.count + $1.value.utf8.count }) > 10_000 {
                    throw Refusal(reason: "X-SMTPAPI unique_args may not exceed 10,000 bytes")
                }
            case "send_at":
                guard case .number(let n) = v, n >= 0, n == n.rounded(), n < 4_102_444_800 else {
                    if v == .null { continue }
                    throw Refusal(reason: "X-SMTPAPI send_at must be a Unix timestamp")
                }
                guard Int(n) <= MailRequestValidator.latestSendAt(now: now) else {
                    throw Refusal(reason: "X-SMTPAPI send_at: scheduling more than 72 hours in advance is forbidden")
                }
                out.sendAt = Int(n)
            case "filters":
                guard case .object(let filters) = v else {
                    if v == .null { continue }
                    throw Refusal(reason: "X-SMTPAPI filters must be an object")
                }
                for name in filters.keys.sorted() where isEnabledFilter(filters[name]) {
                    throw Refusal(reason: "X-SMTPAPI filters.\(name) is not supported by this server")
                }
            case _ where unsupportedKeys.contains(key):
                if v.hasEffect { throw Refusal(reason: "X-SMTPAPI \(key) is not supported by this server") }
            default: break  // outside SendGrid's X-SMTPAPI: ignored, as the API ignores unknown keys
            }
        }
        return out
    }

    /// `{"settings": {"enable": 1}}` (SendGrid writes 1/0, "1"/"0" or booleans).
    static func isEnabledFilter(_ value: JSONValue?) -> Bool {
        guard case .object(let filter)? = value, case .object(let settings)? = filter["settings"] else { return false }
        switch settings["enable"] {
        case .bool(true)?: return true
        case .number(let n)?: return n != 0
        case .string(let s)?: return s != "0" && s.lowercased() != "false" && !s.isEmpty
        default: return false
        }
    }
}
