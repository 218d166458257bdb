/// RFC 8689 §5: a `TLS-Required: No` header field asks that the recipients' published TLS
/// policies (DANE, MTA-STS) be ignored for this message, so it may go out opportunistically
/// (a TLS report, or mail about a broken TLS set-up). The sender's own Enforced TLS and its
/// domain entries still apply: the header only waives what the recipient published.
public enum TLSRequiredHeader {
    /// Whether the message's header block holds `TLS-Required: No` (case-insensitive).
    ///
    /// Asked once per message per delivery round: the full header parse only runs when the
    /// block contains the name at all (a byte scan), since parsing every message's header for
    /// a field almost none has was 3% of a delivery's CPU, on the path before the first session.
    public static func waivesRecipientPolicies(_ content: [UInt8]) -> Bool {
        let end = SubmittedMessage.headerBlockEnd(content)
        guard mentionsName(content[..<end]) else { return false }
        return parsedWaiver(content[..<end])
    }

    /// The answer from the parsed header fields.
    static func parsedWaiver(_ header: ArraySlice<UInt8>) -> Bool {
        SubmittedMessage.headerFields(header).contains {
            $0.name.lowercased() == "tls-required" && $0.unfoldedValue.lowercased() == "no"
        }
    }

    private static let name = Array("tls-required".utf8)

    /// Whether `tls-required` occurs anywhere in `header`, ASCII case-insensitively (a field
    /// of that name cannot exist without it: names are never folded).
    static func mentionsName(_ header: ArraySlice<UInt8>) -> Bool {
        guard header.count >= name.count else { return false }
        var i = header.startIndex
        let last = header.endIndex - name.count
        while i <= last {
            if header[i] | 0x20 == 0x74 {  // "t" or "T"
                var j = 1
                // `| 0x20` folds ASCII letters to lower case (a CR then matches "-": only a
                // needless parse, never a missed field).
                while j < name.count, header[i + j] | 0x20 == name[j] { j += 1 }
                if j == name.count { return true }
            }
            i += 1
        }
        return false
    }
}
