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

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
}

/// `--route DOMAIN=HOST:PORT` (Postfix's transport map) first, then DNS MX records in
/// preference order, then the domain's own address when it has no MX (RFC 5321 §5.1).
public struct NextHopResolver: Sendable {
    public var routes: [String: NextHop]
    /// `nil`: the resolvers of /etc/resolv.conf.
    public var dnsServer: (host: String, port: UInt16)?
    /// The port of MX hosts (25; other values only make sense in test set-ups).
    public var mxPort: Int

    public init(routes: [String: NextHop] = [:], dnsServer: (host: String, port: UInt16)? = nil, mxPort: Int = 25) {
        self.routes = routes
        self.dnsServer = dnsServer
        self.mxPort = mxPort
    }

    /// The addresses to connect to for `host`. With the system resolver this is left to the
    /// connect call (`nil`); with `--dns-server` the A and AAAA records come from that server,
    /// so tests and split-horizon set-ups never fall back to /etc/hosts or another resolver.
    public func addresses(of host: String) async -> [String]? {
        guard let server = dnsServer, !host.isIPAddress else { return nil }
        return
            (try? await NIOThreadPool.singleton.runIfActive {
                Self.lookupAddresses(host, type: ns_t_a, server: server) + Self.lookupAddresses(host, type: ns_t_aaaa, server: server)
            }) ?? []
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
        let server = dnsServer
        let port = mxPort
        do {
            return try await NIOThreadPool.singleton.runIfActive {
                switch Self.lookupMX(domain, server: server) {
                case .hosts(let hops): .hosts(hops.map { NextHop(host: $0.host, port: port) })
                case let other: other
                }
            }
        } catch {
            return .temporaryFailure("DNS lookup could not run: \(error)")
        }
    }

    static func configure(_ state: inout __res_state, server: (host: String, port: UInt16)?) {
        guard let server else { return }
        state.nscount = 1
        state.nsaddr_list.0.sin_family = sa_family_t(AF_INET)
        state.nsaddr_list.0.sin_port = server.port.bigEndian
        inet_pton(AF_INET, server.host, &state.nsaddr_list.0.sin_addr)
        state.retry = 2
        state.retrans = 2
    }

    /// A or AAAA records of `host`, as address strings.
    static func lookupAddresses(_ host: String, type: ns_type, server: (host: String, port: UInt16)?) -> [String] {
        var state: __res_state = .init()
        guard __res_ninit(&state) == 0 else { return [] }
        defer { __res_nclose(&state) }
        configure(&state, server: server)
        var answer = [UInt8](repeating: 0, count: 4096)
        let length = res_nquery(&state, host, Int32(ns_c_in.rawValue), Int32(type.rawValue), &answer, Int32(answer.count))
        guard length > 0 else { return [] }
        return answer.withUnsafeBufferPointer { buffer in
            var message = ns_msg()
            guard ns_initparse(buffer.baseAddress, length, &message) == 0 else { return [] }
            var out: [String] = []
            for index in 0..<Int32(message._counts.1) {
                var rr = ns_rr()
                guard ns_parserr(&message, ns_s_an, index, &rr) == 0, rr.type == UInt16(type.rawValue), let rdata = rr.rdata else {
                    continue
                }
                let family = type == ns_t_a ? AF_INET : AF_INET6
                guard Int(rr.rdlength) == (type == ns_t_a ? 4 : 16) else { continue }
                var text = [CChar](repeating: 0, count: 64)
                guard inet_ntop(family, rdata, &text, socklen_t(text.count)) != nil else { continue }
                out.append(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
            return out
        }
    }

    /// Blocking libresolv query: runs on the NIO thread pool, never on an event loop.
    static func lookupMX(_ domain: String, server: (host: String, port: UInt16)?) -> NextHops {
        var state: __res_state = .init()  // not `__res_state()`: that name is also the thread-local accessor
        guard __res_ninit(&state) == 0 else { return .temporaryFailure("resolver initialisation failed") }
        defer { __res_nclose(&state) }
        configure(&state, server: server)
        var answer = [UInt8](repeating: 0, count: 8192)
        let length = res_nquery(&state, domain, Int32(ns_c_in.rawValue), Int32(ns_t_mx.rawValue), &answer, Int32(answer.count))
        if length < 0 {
            switch state.res_h_errno {
            case HOST_NOT_FOUND: return .undeliverable("domain \(domain) does not exist")
            case NO_DATA: return .hosts([NextHop(host: domain, port: 25)])  // no MX: implicit MX (the domain's A/AAAA)
            default: return .temporaryFailure("DNS lookup of \(domain) failed (h_errno \(state.res_h_errno))")
            }
        }
        var records: [(UInt16, String)] = []
        let parsed: Bool = answer.withUnsafeBufferPointer { buffer in
            var message = ns_msg()
            guard ns_initparse(buffer.baseAddress, length, &message) == 0 else { return false }
            for index in 0..<Int32(message._counts.1) {
                var rr = ns_rr()
                guard ns_parserr(&message, ns_s_an, index, &rr) == 0 else { return false }
                guard rr.type == UInt16(ns_t_mx.rawValue), rr.rdlength >= 3, let rdata = rr.rdata else { continue }
                var name = [CChar](repeating: 0, count: Int(NS_MAXDNAME))
                guard dn_expand(buffer.baseAddress, buffer.baseAddress! + Int(length), rdata + 2, &name, Int32(name.count)) >= 0 else {
                    return false
                }
                let preference = UInt16(rdata[0]) << 8 | UInt16(rdata[1])
                records.append((preference, String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)))
            }
            return true
        }
        guard parsed else { return .temporaryFailure("malformed DNS answer for \(domain)") }
        if records.isEmpty { return .hosts([NextHop(host: domain, port: 25)]) }
        // RFC 7505: a single MX of "." means the domain accepts no mail.
        if records.count == 1, records[0].1.isEmpty || records[0].1 == "." {
            return .undeliverable("domain \(domain) accepts no mail (null MX)")
        }
        return .hosts(records.sorted { $0.0 < $1.0 }.filter { !$0.1.isEmpty }.map { NextHop(host: $0.1, port: 25) })
    }
}
