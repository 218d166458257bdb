import ArgumentParser
import Foundation
import Logging
import SealpostDelivery
import SealpostSMTP

/// `serve`'s options for the recipients' published TLS policies: DANE (RFC 7672) and
/// MTA-STS (RFC 8461), both on by default.
struct RecipientPolicyOptions: ParsableArguments {
    @Option(help: "DANE for SMTP: on or off (env SEALPOST_DANE; default on; needs a DNSSEC-validating resolver on loopback).")
    var dane: String?
    @Option(help: "MTA-STS (RFC 8461): on or off (env SEALPOST_MTA_STS; default on).")
    var mtaSts: String?
    @Option(help: "HTTPS port of MTA-STS policy hosts (env SEALPOST_MTA_STS_PORT; default 443; other values are for test set-ups).")
    var mtaStsPort: Int?

    func mtaSTSRequested() throws -> Bool {
        try Self.onOff(Environment.value(flag: mtaSts, env: "SEALPOST_MTA_STS", default: "on"), flag: "--mta-sts")
    }

    func mtaSTSPort() throws -> Int {
        let text = Environment.value(flag: mtaStsPort.map(String.init), env: "SEALPOST_MTA_STS_PORT", default: "443")
        guard let port = Int(text), (1...65535).contains(port) else { throw ValidationError("MTA-STS port must be 1-65535, got \(text)") }
        return port
    }

    /// Whether `--dane` is on; a value other than on/off is refused.
    func daneRequested() throws -> Bool {
        try Self.onOff(Environment.value(flag: dane, env: "SEALPOST_DANE", default: "on"), flag: "--dane")
    }

    static func onOff(_ text: String, flag: String) throws -> Bool {
        switch text.lowercased() {
        case "on": return true
        case "off": return false
        default: throw ValidationError("\(flag) must be on or off, got \(text)")
        }
    }

    /// Where DNSSEC answers come from, and whether their AD bit can be believed: only from a
    /// resolver on a loopback address (`--dns-server`, or every `nameserver` of resolv.conf).
    /// `nil` with the reason DANE is off otherwise.
    static func trustedResolver(dnsServer: (host: String, port: UInt16)?, resolvConf: String?) -> (trusted: Bool, why: String) {
        if let dnsServer {
            if DNSClient.isLoopback(dnsServer.host) { return (true, "--dns-server \(dnsServer.host):\(dnsServer.port)") }
            return (false, "--dns-server \(dnsServer.host) is not on a loopback address: its AD bit cannot be trusted")
        }
        guard let resolvConf else { return (false, "/etc/resolv.conf cannot be read") }
        let servers = DNSClient.nameservers(resolvConf: resolvConf)
        if servers.isEmpty { return (false, "/etc/resolv.conf names no nameserver") }
        if let remote = servers.first(where: { !DNSClient.isLoopback($0) }) {
            return (false, "nameserver \(remote) in /etc/resolv.conf is not on a loopback address: its AD bit cannot be trusted")
        }
        return (true, "nameserver \(servers.joined(separator: ",")) from /etc/resolv.conf")
    }
}
