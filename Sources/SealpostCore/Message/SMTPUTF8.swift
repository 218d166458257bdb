/// RFC 6531 and 6532: when a message may only travel with the SMTPUTF8 extension.
///
/// Sealpost writes raw UTF-8 into headers in one case only: an address whose local part is
/// not ASCII (RFC 2047 encoded-words are not allowed inside an addr-spec, and IDNA covers only
/// the domain). Such a message is an internationalized message; every copy of it, including
/// those to co-recipients with ASCII addresses, needs a next hop that offers SMTPUTF8.
public enum SMTPUTF8 {
    /// True when the header section (everything before the first empty line) holds a byte
    /// outside ASCII.
    public static func headersNeedIt(_ content: [UInt8]) -> Bool {
        var atLineStart = true
        var i = 0
        while i < content.count {
            let b = content[i]
            if b >= 0x80 { return true }
            if atLineStart && (b == 0x0A || (b == 0x0D && i + 1 < content.count && content[i + 1] == 0x0A)) { return false }
            atLineStart = b == 0x0A
            i += 1
        }
        return false
    }
}
