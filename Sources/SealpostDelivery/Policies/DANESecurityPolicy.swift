import SealpostSMTP

/// DANE for SMTP (RFC 7672) as a security policy: `prepare` does the DNSSEC lookups (MX,
/// addresses of each MX host, TLSA at `_<port>._tcp.<host>`), all through the trusted
/// loopback resolver and its cache, and returns `PreparedDANE`, whose answers are pure.
///
/// Decisions follow Postfix's `dane` level: a bogus or failing lookup defers (never a
/// downgrade); an insecure MX RRset, insecure host addresses or no TLSA mean no DANE for that
/// host; TLSA records none of which is usable mean TLS without authentication.
public struct DANESecurityPolicy: SecurityPolicy {
    public let name = "dane"
    let dns: DNSClient
    /// The delivery port (25, or `--mx-port`): TLSA records are published per port.
    let port: Int
    /// Domains with a `--route`: their next hop is the operator's, not an MX host.
    let routedDomains: Set<String>

    public init(dns: DNSClient, port: Int, routedDomains: Set<String> = []) {
        self.dns = dns
        self.port = port
        self.routedDomains = routedDomains
    }

    public func prepare(domain: String) async throws -> any PreparedPolicy {
        if routedDomains.contains(domain.lowercased()) { return PreparedDANE(hosts: [:]) }
        let mx = await dns.query(domain, type: DNSClient.typeMX)
        let hosts: [String]
        switch mx.status {
        case .failure(let why): return PreparedDANE(hosts: [:], domainFailure: "MX lookup failed: \(why)")
        case .nxDomain: return PreparedDANE(hosts: [:])  // bounced by the delivery itself
        case .noData: hosts = [domain]  // the implicit MX: the domain's own address records
        case .records:
            guard case .hosts(let hops) = NextHopResolver.nextHops(mx, domain: domain, port: port) else { return PreparedDANE(hosts: [:]) }
            hosts = hops.map(\.host)
        }
        var states: [String: DANEHostState] = [:]
        for host in hosts {
            states[PreparedDANE.key(host)] = mx.secure ? await state(of: host) : .notApplicable("MX RRset not DNSSEC-validated")
        }
        return PreparedDANE(hosts: states)
    }

    /// One MX host's DANE state (RFC 7672 §2.2.2, §2.2.3).
    func state(of host: String) async -> DANEHostState {
        let a = await dns.query(host, type: DNSClient.typeA)
        let aaaa = await dns.query(host, type: DNSClient.typeAAAA)
        if case .failure(let why) = a.status { return .lookupFailed("address lookup failed: \(why)") }
        if case .failure(let why) = aaaa.status { return .lookupFailed("address lookup failed: \(why)") }
        let addresses = a.status == .records ? a : aaaa
        guard addresses.status == .records else { return .notApplicable("MX host has no address") }
        guard addresses.secure else { return .notApplicable("MX host address not DNSSEC-validated") }
        // A secure CNAME: TLSA at the expanded name first, then at the original (§2.2.3).
        var bases: [String] = []
        if let canonical = addresses.canonicalName.map(PreparedDANE.key), canonical != PreparedDANE.key(host) { bases.append(canonical) }
        bases.append(PreparedDANE.key(host))
        for base in bases {
            let tlsa = await dns.query("_\(port)._tcp.\(base)", type: DNSClient.typeTLSA)
            switch tlsa.status {
            case .failure(let why): return .lookupFailed("TLSA lookup failed: \(why)")
            case .noData, .nxDomain: continue
            case .records:
                guard tlsa.secure else { return .notApplicable("TLSA RRset not DNSSEC-validated") }
                let usable = tlsa.records.compactMap { TLSARecord(rdata: $0.rdata) }.filter(\.isUsable)
                if usable.isEmpty { return .unusable }
                return .usable(DANEExpectation(records: usable, names: Array(Set(bases + [PreparedDANE.key(host)])).sorted()))
            }
        }
        return .notApplicable("no TLSA records")
    }
}
