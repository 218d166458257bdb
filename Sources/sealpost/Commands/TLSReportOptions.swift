import ArgumentParser
import Foundation
import SealpostDelivery

/// Who signs TLS reports (RFC 8460 §4.4) and whether the server sends them; shared by `serve`
/// and `tlsrpt send`, so both report alike.
struct TLSReportOptions: ParsableArguments {
    @Option(name: .customLong("tlsrpt"), help: "on|off: record sessions and send daily TLS reports (env SEALPOST_TLSRPT; default on).")
    var tlsrpt: String?
    @Option(
        name: .customLong("tlsrpt-organization"),
        help: "The reports' organization-name (env SEALPOST_TLSRPT_ORGANIZATION; default: the EHLO name).")
    var organization: String?
    @Option(
        name: .customLong("tlsrpt-contact"),
        help: "The reports' contact-info (env SEALPOST_TLSRPT_CONTACT; default: postmaster@ the EHLO name).")
    var contact: String?
    @Option(
        name: .customLong("tlsrpt-from"),
        help: "From of mailto: reports; its domain is the submitter (env SEALPOST_TLSRPT_FROM; default: tlsrpt-noreply@ the EHLO name).")
    var from: String?

    func enabled() throws -> Bool {
        let text = Environment.value(flag: tlsrpt, env: "SEALPOST_TLSRPT", default: "on")
        switch text.lowercased() {
        case "on", "true", "1": return true
        case "off", "false", "0": return false
        default: throw ValidationError("--tlsrpt must be on or off, got \(text)")
        }
    }

    func configuration(helo: String, trustRoots: String?) throws -> TLSReportConfiguration {
        let sender = Environment.value(flag: from, env: "SEALPOST_TLSRPT_FROM", default: "tlsrpt-noreply@\(helo)")
        guard sender.contains("@"), !sender.contains(where: { $0.isWhitespace || $0 == "<" || $0 == ">" }) else {
            throw ValidationError("--tlsrpt-from must be an address, got \(sender)")
        }
        return TLSReportConfiguration(
            organization: Environment.value(flag: organization, env: "SEALPOST_TLSRPT_ORGANIZATION", default: helo),
            contact: Environment.value(flag: contact, env: "SEALPOST_TLSRPT_CONTACT", default: "postmaster@\(helo)"),
            from: sender, trustRoots: trustRoots)
    }
}
