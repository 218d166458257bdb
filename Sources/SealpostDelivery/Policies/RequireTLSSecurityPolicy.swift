import SealpostSMTP

/// REQUIRETLS (RFC 8689) as a security policy, added only for messages that carry it:
/// `prepare` finds out which MX hosts were found securely (the DNSSEC state of the MX RRset
/// through the trusted resolver, and the MTA-STS policy in force, both cached), and returns
/// `PreparedRequireTLS`, whose answers are pure.
///
/// Without a validating resolver (`--dane off`, or none on loopback) no MX RRset counts as
/// validated: such mail goes only where MTA-STS or a `--route` vouches for the host.
public struct RequireTLSSecurityPolicy: SecurityPolicy {
    public let name = "requiretls"
    let dns: DNSClient
    /// The MTA-STS policy, when it is on: its `mx:` patterns vouch for hosts too.
    let mtaSTS: (any SecurityPolicy)?
    let port: Int
    /// Domains with a `--route`.
    let routedDomains: Set<String>

    public init(dns: DNSClient, mtaSTS: (any SecurityPolicy)?, port: Int, routedDomains: Set<String>) {
        self.dns = dns
        self.mtaSTS = mtaSTS
        self.port = port
        self.routedDomains = routedDomains
    }

    public func prepare(domain: String) async throws -> any PreparedPolicy {
        if routedDomains.contains(domain.lowercased()) { return PreparedRequireTLS(discovery: .routed) }
        var secure: Set<String> = []
        if dns.trustAD {
            let mx = await dns.query(domain, type: DNSClient.typeMX)
            switch mx.status {
            // Fail closed: the lookup delivery itself makes would fail too; try again later.
            case .failure(let why): throw RequireTLSError.lookupFailed(why)
            case .nxDomain: break
            case .noData: if mx.secure { secure.insert(PreparedRequireTLS.key(domain)) }
            case .records:
                if mx.secure, case .hosts(let hops) = NextHopResolver.nextHops(mx, domain: domain, port: port) {
                    secure.formUnion(hops.map { PreparedRequireTLS.key($0.host) })
                }
            }
        }
        let sts = try await (mtaSTS?.prepare(domain: domain) as? PreparedMTASTS)?.policy
        return PreparedRequireTLS(discovery: .found(secureHosts: secure, stsPolicy: sts))
    }
}

enum RequireTLSError: Error, CustomStringConvertible {
    case lookupFailed(String)
    var description: String {
        switch self {
        case .lookupFailed(let why): "REQUIRETLS: the MX lookup failed: \(why)"
        }
    }
}
