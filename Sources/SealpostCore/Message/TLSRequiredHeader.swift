/// RFC 8689 §5: a `TLS-Required: No` header field asks that the recipients' published TLS
/// policies (DANE, MTA-STS) be ignored for this message, so it may go out opportunistically
/// (a TLS report, or mail about a broken TLS set-up). The sender's own Enforced TLS and its
/// domain entries still apply: the header only waives what the recipient published.
public enum TLSRequiredHeader {
    /// Whether the message's header block holds `TLS-Required: No` (case-insensitive).
    public static func waivesRecipientPolicies(_ content: [UInt8]) -> Bool {
        let end = SubmittedMessage.headerBlockEnd(content)
        return SubmittedMessage.headerFields(content[..<end]).contains {
            $0.name.lowercased() == "tls-required" && $0.unfoldedValue.lowercased() == "no"
        }
    }
}
