import Foundation

/// One command line a submission client sent (RFC 5321 §4.1, RFC 3207, RFC 4954), parsed.
///
/// Pure and total: any bytes give a command or a syntax error, never a crash (it is under
/// the fuzzer, `scripts/fuzz smtp-command`). Verbs are case-insensitive; paths are kept as
/// sent apart from the angle brackets.
public enum SMTPCommand: Equatable, Sendable {
    case ehlo(String)
    case helo(String)
    case mail(from: String, parameters: [String: String])
    case rcpt(to: String, parameters: [String: String])
    case data
    case rset
    case noop
    case quit
    case startTLS
    case auth(mechanism: String, initialResponse: String?)
    case vrfy
    case help
    /// A verb this server does not know (`500 5.5.1`).
    case unknown(String)
    /// A known verb with arguments it cannot read (`501 5.5.4`), and why.
    case syntaxError(String)

    public static func parse(_ line: [UInt8]) -> SMTPCommand {
        // Commands are ASCII (RFC 5321 §2.4); SMTPUTF8 paths may hold UTF-8.
        guard let text = String(validating: line, as: UTF8.self) else { return .syntaxError("the command is not valid UTF-8") }
        if text.unicodeScalars.contains(where: { $0.value < 0x20 && $0 != "\t" || $0.value == 0x7F }) {
            return .syntaxError("control characters in the command")
        }
        let verbEnd = text.firstIndex(of: " ") ?? text.endIndex
        let verb = text[..<verbEnd].uppercased()
        let rest = text[verbEnd...].drop(while: { $0 == " " })
        let argument = String(rest.reversed().drop(while: { $0 == " " }).reversed())
        switch verb {
        case "EHLO", "HELO":
            guard !argument.isEmpty, !argument.contains(" ") else { return .syntaxError("\(verb) needs a domain or address literal") }
            return verb == "EHLO" ? .ehlo(argument) : .helo(argument)
        case "MAIL":
            return path(argument, prefix: "FROM:", allowEmpty: true).map { .mail(from: $0.path, parameters: $0.parameters) }
                ?? .syntaxError("MAIL needs FROM:<address>")
        case "RCPT":
            return path(argument, prefix: "TO:", allowEmpty: false).map { .rcpt(to: $0.path, parameters: $0.parameters) }
                ?? .syntaxError("RCPT needs TO:<address>")
        case "DATA": return argument.isEmpty ? .data : .syntaxError("DATA takes no argument")
        case "RSET": return argument.isEmpty ? .rset : .syntaxError("RSET takes no argument")
        case "NOOP": return .noop
        case "QUIT": return argument.isEmpty ? .quit : .syntaxError("QUIT takes no argument")
        case "STARTTLS": return argument.isEmpty ? .startTLS : .syntaxError("STARTTLS takes no argument")
        case "AUTH":
            let parts = argument.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count == 1 || parts.count == 2 else { return .syntaxError("AUTH needs a mechanism") }
            return .auth(mechanism: parts[0].uppercased(), initialResponse: parts.count == 2 ? String(parts[1]) : nil)
        case "VRFY", "EXPN": return .vrfy
        case "HELP": return .help
        default: return .unknown(String(verb.prefix(32)))
        }
    }

    /// `FROM:<path> PARAM=value …`: the path without brackets (RFC 5321 §4.1.2, a space after
    /// the colon tolerated as most servers do) and the ESMTP parameters by upper-cased keyword.
    static func path(_ argument: String, prefix: String, allowEmpty: Bool) -> (path: String, parameters: [String: String])? {
        guard argument.count > prefix.count, argument.prefix(prefix.count).uppercased() == prefix else { return nil }
        let afterColon = argument.dropFirst(prefix.count).drop(while: { $0 == " " })
        guard afterColon.first == "<", let close = afterColon.firstIndex(of: ">") else { return nil }
        let path = String(afterColon[afterColon.index(after: afterColon.startIndex)..<close])
        guard allowEmpty || !path.isEmpty, !path.contains(" "), !path.contains("<") else { return nil }
        var parameters: [String: String] = [:]
        for word in afterColon[afterColon.index(after: close)...].split(separator: " ") {
            let pieces = word.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let keyword = pieces[0].uppercased()
            guard !keyword.isEmpty, keyword.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) else { return nil }
            parameters[keyword] = pieces.count == 2 ? String(pieces[1]) : ""
        }
        return (path, parameters)
    }
}
