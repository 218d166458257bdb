import SealpostCore

/// REQUIRETLS (RFC 8689 §4.2.1) prepared for one recipient domain, for the messages that carry
/// it. Pure answers:
///
/// - an MX host may be used only if it was found securely: a DNSSEC-validated MX RRset, an
///   MTA-STS policy that lists it, or a `--route` (the operator's own next hop);
/// - the connection needs TLS with a certificate verified for the host name, by the trust roots
///   or by DANE (`verify`);
/// - the server must offer REQUIRETLS after TLS, so that the option travels on.
///
/// Its refusals are permanent (the message bounces at once, RFC 8689 §4.2.1: `5.7.30`): a
/// REQUIRETLS sender asked for the message not to go otherwise, and retrying would not change
/// what the recipient domain publishes within the message's lifetime often enough to wait.
public struct PreparedRequireTLS: PreparedPolicy, Sendable, Equatable {
    public let name = "requiretls"

    /// How the MX hosts of the domain were found.
    public enum Discovery: Sendable, Equatable {
        /// A `--route`: every next hop is the operator's.
        case routed
        /// The MX hosts of a DNSSEC-validated MX RRset (or the domain itself, for a validated
        /// answer without MX records), and the `mx:` patterns of an MTA-STS policy, if any.
        case found(secureHosts: Set<String>, stsPolicy: MTASTSPolicyText?)
    }

    public var discovery: Discovery

    public init(discovery: Discovery) { self.discovery = discovery }

    public static func key(_ host: String) -> String {
        var h = host.lowercased()
        while h.hasSuffix(".") { h.removeLast() }
        return h
    }

    /// Whether `mxHost` was found in a way an attacker on the path could not forge.
    public func isSecure(_ mxHost: String) -> Bool {
        switch discovery {
        case .routed: return true
        case .found(let hosts, let sts):
            if hosts.contains(Self.key(mxHost)) { return true }
            guard let sts, sts.mode != .none else { return false }
            return sts.matches(mxHost: mxHost)
        }
    }

    func refusal(_ failure: TLSFailure, _ why: String) -> PolicyRefusal {
        PolicyRefusal(
            policy: name, failure: failure, permanence: .permanent, status: "5.7.30", requiredLevel: .verify,
            reason: "REQUIRETLS not met: \(why)")
    }

    public func checkMX(_ mxHost: String) -> MXVerdict {
        guard isSecure(mxHost) else {
            return .refuse(
                refusal(
                    .requireTLSNotSupported,
                    "MX host \(Self.key(mxHost)) was not found securely (no DNSSEC-validated MX record, no MTA-STS policy listing it)"))
        }
        return .use(required: .verify)
    }

    public func checkConnection(_ facts: ConnectionFacts, mxHost: String) -> PolicyRefusal? {
        guard let tls = facts.tls else {
            return facts.starttlsOffered
                ? refusal(.validationFailure, "the TLS handshake with \(Self.key(mxHost)) failed")
                : refusal(.starttlsNotSupported, "\(Self.key(mxHost)) does not offer STARTTLS")
        }
        guard !tls.authenticated else { return nil }
        let failure = tls.certificate.failure ?? .validationFailure
        return refusal(failure, "the certificate of \(Self.key(mxHost)) is not verified (\(failure.rawValue))")
    }

    public func checkExtensions(_ capabilities: SMTPCapabilities, facts: ConnectionFacts, mxHost: String) -> PolicyRefusal? {
        guard !capabilities.requireTLS else { return nil }
        return refusal(.requireTLSNotSupported, "\(Self.key(mxHost)) does not offer REQUIRETLS")
    }

    public func describe(mxHost: String) -> String? { isSecure(mxHost) ? "secure-mx" : "insecure-mx" }
}
