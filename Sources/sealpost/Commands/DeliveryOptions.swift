import ArgumentParser
import Foundation
import Logging
import SealpostCore
import SealpostDelivery
import SealpostSMTP
import SealpostStorage

/// How mail leaves: routes, the resolver, the MX port, trust roots, SMTP limits and the
/// recipients' policies. Shared by `serve` and `check`, so a check decides exactly as the
/// server would.
struct DeliveryOptions: ParsableArguments {
    @OptionGroup var recipientPolicies: RecipientPolicyOptions
    @Option(
        name: .customLong("route"),
        help:
            "DOMAIN=HOST:PORT: send a recipient domain to a fixed next hop; HOST is the name its certificate must match. Repeatable (env SEALPOST_ROUTES, comma-separated)."
    )
    var routes: [String] = []
    @Option(help: "HOST:PORT of the DNS server for MX lookups (env SEALPOST_DNS_SERVER; default: /etc/resolv.conf).")
    var dnsServer: String?
    @Option(help: "TCP port of MX hosts (env SEALPOST_MX_PORT; default 25; other values are for test set-ups).")
    var mxPort: Int?
    @Option(help: "Name sent in EHLO and used in Message-IDs (env SEALPOST_HELO_NAME; default: the host name).")
    var heloName: String?
    @Option(help: "PEM file of trust roots for require_valid_cert (env SEALPOST_TRUST_ROOTS; default: the system's).")
    var trustRoots: String?
    @Option(help: "Limit in seconds for every SMTP client wait (env SEALPOST_SMTP_TIMEOUT; default: RFC 5321's per-phase limits).")
    var smtpTimeout: Double?

    var helo: String { Environment.value(flag: heloName, env: "SEALPOST_HELO_NAME", default: ProcessInfo.processInfo.hostName) }

    func build(store: any SealpostStore, logger: Logger) throws -> DeliveryStack {
        var routeTable: [String: NextHop] = [:]
        let fromEnv = (ProcessInfo.processInfo.environment["SEALPOST_ROUTES"] ?? "").split(separator: ",").map { String($0) }
        for text in (routes.isEmpty ? fromEnv : routes) where !text.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let (domain, hop) = NextHopResolver.parseRoute(text) else {
                throw ValidationError("--route must be DOMAIN=HOST:PORT, got \(text)")
            }
            routeTable[domain] = hop
        }
        var dns: (host: String, port: UInt16)?
        let dnsText = Environment.value(flag: dnsServer, env: "SEALPOST_DNS_SERVER", default: "")
        if !dnsText.isEmpty {
            let (h, p) = try ServeCommand.parseListen(dnsText, flag: "--dns-server")
            dns = (h, UInt16(p))
        }
        let rootsPath = Environment.value(flag: trustRoots, env: "SEALPOST_TRUST_ROOTS", default: "")
        let evaluator: CertificateEvaluator
        do {
            evaluator = rootsPath.isEmpty ? .system : try CertificateEvaluator(pemFile: rootsPath)
        } catch {
            throw ValidationError("cannot read trust roots \(rootsPath): \(error)")
        }
        var timeouts = SMTPTimeouts()
        let timeoutText = Environment.value(flag: smtpTimeout.map { String($0) }, env: "SEALPOST_SMTP_TIMEOUT", default: "")
        if !timeoutText.isEmpty {
            guard let t = Double(timeoutText), t > 0 else { throw ValidationError("SMTP timeout must be a positive number of seconds") }
            timeouts = .uniform(.milliseconds(Int64(t * 1000)))
        }
        logger.info(
            "delivery configured",
            metadata: [
                "routes": "\(routeTable.map { "\($0.key)=\($0.value.host):\($0.value.port)" }.sorted().joined(separator: ","))",
                "helo": "\(helo)", "trust_roots": "\(rootsPath.isEmpty ? "system" : rootsPath)",
            ])
        let mxPortText = Environment.value(flag: mxPort.map(String.init), env: "SEALPOST_MX_PORT", default: "25")
        guard let mxPortValue = Int(mxPortText), (1...65535).contains(mxPortValue) else {
            throw ValidationError("MX port must be 1-65535, got \(mxPortText)")
        }
        // DANE: on unless turned off, but only where the AD bit can be believed.
        var policies: [any SecurityPolicy] = []
        var trustAD = false
        if try recipientPolicies.daneRequested() {
            let resolver = RecipientPolicyOptions.trustedResolver(
                dnsServer: dns, resolvConf: try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8))
            if resolver.trusted {
                trustAD = true
                logger.info("DANE is on", metadata: ["resolver": "\(resolver.why)"])
            } else {
                logger.warning("DANE is off", metadata: ["reason": "\(resolver.why)"])
            }
        } else {
            logger.info("DANE is off", metadata: ["reason": "--dane off"])
        }
        let dnsClient = DNSClient(server: dns, trustAD: trustAD)
        if trustAD {
            policies.append(DANESecurityPolicy(dns: dnsClient, port: mxPortValue, routedDomains: Set(routeTable.keys)))
        }
        let mtaSTSOn = try recipientPolicies.mtaSTSRequested()
        if mtaSTSOn {
            let stsPort = try recipientPolicies.mtaSTSPort()
            let fetcher = HTTPSPolicyFetcher(dns: dnsClient, port: stsPort, trustRoots: rootsPath.isEmpty ? nil : rootsPath)
            policies.append(MTASTSSecurityPolicy(dns: dnsClient, store: store, fetcher: fetcher, routedDomains: Set(routeTable.keys)))
            logger.info("MTA-STS is on", metadata: ["policy_port": "\(stsPort)"])
        } else {
            logger.info("MTA-STS is off", metadata: ["reason": "--mta-sts off"])
        }
        let resolver = NextHopResolver(
            routes: routeTable, mxPort: mxPortValue, dns: dnsClient, addressesFromDNS: dns != nil || trustAD)
        return DeliveryStack(
            resolver: resolver, client: SMTPDeliveryClient(heloName: helo, timeouts: timeouts, evaluator: evaluator), policies: policies,
            daneOn: trustAD, mtaSTSOn: mtaSTSOn)
    }
}

/// What `DeliveryOptions` builds: the pieces a delivery, and a pre-flight check, are made of.
struct DeliveryStack {
    let resolver: NextHopResolver
    let client: SMTPDeliveryClient
    let policies: [any SecurityPolicy]
    let daneOn: Bool
    let mtaSTSOn: Bool

    /// The pre-flight check with the same resolver and policies, and its own limits: 10 s per
    /// phase (or less under `--smtp-timeout`), 30 s in all.
    func checker(logger: Logger) -> PreflightCheck {
        var client = client
        client.timeouts = client.timeouts.capped(at: .seconds(10))
        return PreflightCheck(
            resolver: resolver, client: client, recipientPolicies: policies, daneOn: daneOn, mtaSTSOn: mtaSTSOn, deadline: .seconds(30),
            logger: logger)
    }
}
