import CResolv
import Foundation
import NIOPosix
import SealpostCore
import SealpostSMTP

#if canImport(Glibc)
import Glibc
#endif

/// Where mail for a domain goes: the hosts to try, in order.
public enum NextHops: Sendable, Equatable {
    case hosts([NextHop])
    /// RFC 7505 null MX, or no such domain: the mail can never be delivered.
    case undeliverable(String)
    /// DNS did not answer: try again later.
    case temporaryFailure(String)
}

public struct NextHop: Sendable, Equatable {
    /// The name a certificate must match (the MX name, or the route's host).
    public var host: String
    public var port: Int
    /// The MX preference (`nil`: a `--route`, or the domain's implicit MX).
    public var preference: Int?

    public init(host: String, port: Int, preference: Int? = nil) {
        self.host = host
        self.port = port
        self.preference = preference
    }
}

/// `--route DOMAIN=HOST:PORT` (Postfix's transport map) first, then DNS MX records in
/// preference order, then the domain's own address when it has no MX (RFC 5321 §5.1).
public struct NextHopResolver: Sendable {
    public var routes: [String: NextHop]
    /// The port of MX hosts (25; other values only make sense in test set-ups).
    public var mxPort: Int
    /// Every MX and address lookup of a delivery (and DANE's, MTA-STS's) goes through it;
    /// without one, a client of `dnsServer` (`nil`: the resolvers of /etc/resolv.conf).
    public let dns: DNSClient
    /// Address records come from `dns` (not getaddrinfo, which also reads /etc/hosts) when
    /// `--dns-server` is set or DANE is on: one resolver answers every lookup of a delivery.
    public var addressesFromDNS: Bool

    public init(
        routes: [String: NextHop] = [:], dnsServer: (host: String, port: UInt16)? = nil, mxPort: Int = 25, dns: DNSClient? = nil,
        addressesFromDNS: Bool? = nil
    ) {
        self.routes = routes
        self.mxPort = mxPort
        self.dns = dns ?? DNSClient(server: dnsServer, trustAD: false)
        self.addressesFromDNS = addressesFromDNS ?? (dnsServer != nil)
    }

    /// The addresses to connect to for `host`. With the system resolver this is left to the
    /// connect call (`nil`); with `--dns-server` (or DANE) the A and AAAA records come from
    /// that server, so tests and split-horizon set-ups never fall back to /etc/hosts.
    public func addresses(of host: String) async -> [String]? {
        guard addressesFromDNS, !host.isIPAddress else { return nil }
        var out: [String] = []
        for (type, family, size) in [(DNSClient.typeA, AF_INET, 4), (DNSClient.typeAAAA, AF_INET6, 16)] {
            let answer = await dns.query(host, type: type)
            for record in answer.records where record.rdata.count == size {
                var text = [CChar](repeating: 0, count: 64)
                let ok = record.rdata.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &text, socklen_t(text.count)) != nil }
                if ok { out.append(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)) }
            }
        }
        return out
    }

    /// Parses `example.com=mx.example.net:2525` (the port defaults to 25).
    public static func parseRoute(_ text: String) -> (String, NextHop)? {
        let parts = text.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { return nil }
        var target = parts[1]
        var port = 25
        if let colon = target.lastIndex(of: ":"), !target.hasSuffix("]") {
            guard let p = Int(target[target.index(after: colon)...]), (1...65535).contains(p) else { return nil }
            port = p
            target = String(target[..<colon])
        }
        if target.hasPrefix("["), target.hasSuffix("]") { target = String(target.dropFirst().dropLast()) }
        guard !target.isEmpty else { return nil }
        return (parts[0].lowercased(), NextHop(host: target, port: port))
    }

    public func resolve(domain: String) async -> NextHops {
        if let route = routes[domain.lowercased()] { return .hosts([route]) }
        let answer = await dns.query(domain, type: DNSClient.typeMX)
        return Self.nextHops(answer, domain: domain, port: mxPort)
    }

    /// An MX answer as next hops: preference order; no MX means the domain itself (RFC 5321
    /// §5.1); a single "." MX means no mail at all (RFC 7505).
    static func nextHops(_ answer: DNSAnswer, domain: String, port: Int) -> NextHops {
        switch answer.status {
        case .nxDomain: return .undeliverable("domain \(domain) does not exist")
        case .noData: return .hosts([NextHop(host: domain, port: port)])
        case .failure(let why): return .temporaryFailure("DNS lookup of \(domain) failed: \(why)")
        case .records: break
        }
        var records: [(UInt16, String)] = []
        for (record, name) in zip(answer.records, answer.names) where record.rdata.count >= 3 {
            records.append((UInt16(record.rdata[0]) << 8 | UInt16(record.rdata[1]), name))
        }
        if records.isEmpty { return .hosts([NextHop(host: domain, port: port)]) }
        if records.count == 1, records[0].1.isEmpty || records[0].1 == "." {
            return .undeliverable("domain \(domain) accepts no mail (null MX)")
        }
        return .hosts(
            records.sorted { $0.0 < $1.0 }.filter { !$0.1.isEmpty && $0.1 != "." }.map {
                NextHop(host: $0.1, port: port, preference: Int($0.0))
            })
    }
}
