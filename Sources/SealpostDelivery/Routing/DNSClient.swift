import CResolv
import Foundation
import Metrics
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// One DNS answer as a stub resolver sees it: the records of the asked type (after any CNAME
/// chain the resolver followed), and whether the resolver vouched for them (the AD bit).
public struct DNSAnswer: Sendable, Equatable {
    public enum Status: Sendable, Equatable {
        case records
        /// NOERROR without records of the type.
        case noData
        case nxDomain
        /// SERVFAIL (bogus under DNSSEC), REFUSED, a timeout, a malformed reply.
        case failure(String)
    }

    public var status: Status
    /// The AD bit, and only when it came from a trusted (loopback) resolver; else false.
    public var secure: Bool
    /// RDATA of the answer records of the asked type, with each record's owner name.
    public var records: [(name: String, rdata: [UInt8])]
    /// The name the records belong to after the resolver followed CNAMEs (`nil`: none followed).
    public var canonicalName: String?
    /// Expanded domain names in the RDATA of MX (after the preference) and CNAME records.
    public var names: [String]
    var ttl: UInt32

    public static func == (a: DNSAnswer, b: DNSAnswer) -> Bool {
        a.status == b.status && a.secure == b.secure && a.canonicalName == b.canonicalName && a.names == b.names
            && a.records.map(\.rdata) == b.records.map(\.rdata)
    }
}

/// DNS lookups through libresolv, with the answer's AD bit and a TTL-bounded cache.
///
/// The AD bit is trusted only from a resolver on a loopback address (`trustAD`): glibc ≥ 2.31
/// strips it unless `RES_TRUSTAD` is set, and over a network path anyone can set it. The
/// cache keeps the number of queries per message near zero (bench-delivery prints it).
public final class DNSClient: Sendable {
    /// `nil`: the nameservers of /etc/resolv.conf.
    public let server: (host: String, port: UInt16)?
    public let trustAD: Bool
    private let cache = Mutex<[Key: (answer: DNSAnswer, expires: ContinuousClock.Instant)]>([:])
    private let queries = Atomic<Int>(0)
    /// Longest time an answer is reused, whatever its TTL.
    static let maxCacheSeconds: UInt32 = 300
    /// Negative answers and failures: a short time, so a fixed zone is seen soon.
    static let negativeCacheSeconds: UInt32 = 5

    struct Key: Hashable {
        var name: String
        var type: UInt16
    }

    public init(server: (host: String, port: UInt16)?, trustAD: Bool) {
        self.server = server
        self.trustAD = trustAD
    }

    /// Queries sent on the wire so far (cache misses).
    public var queryCount: Int { queries.load(ordering: .relaxed) }

    public static let typeA: UInt16 = 1
    public static let typeCNAME: UInt16 = 5
    public static let typeMX: UInt16 = 15
    public static let typeTXT: UInt16 = 16
    public static let typeAAAA: UInt16 = 28
    public static let typeTLSA: UInt16 = 52

    /// `cached: false` asks the server even when an answer is cached (a domain validation right
    /// after the owner published a record), and caches the new answer.
    public func query(_ name: String, type: UInt16, cached: Bool = true) async -> DNSAnswer {
        let key = Key(name: name.lowercased(), type: type)
        let now = ContinuousClock.now
        if cached, let hit = cache.withLock({ $0[key] }), hit.expires > now { return hit.answer }
        queries.add(1, ordering: .relaxed)
        Counter(label: "sealpost_dns_queries_total").increment()
        let server = self.server
        let trust = trustAD
        let answer: DNSAnswer
        do {
            answer = try await NIOThreadPool.singleton.runIfActive { Self.lookup(name, type: type, server: server, trustAD: trust) }
        } catch {
            return DNSAnswer(status: .failure("DNS lookup could not run: \(error)"), secure: false, records: [], names: [], ttl: 0)
        }
        let seconds = answer.status == .records ? min(answer.ttl, Self.maxCacheSeconds) : Self.negativeCacheSeconds
        if seconds > 0 {
            cache.withLock { $0[key] = (answer, now + .seconds(Int(seconds))) }
        }
        return answer
    }

    /// Blocking: runs on the NIO thread pool, never on an event loop.
    static func lookup(_ name: String, type: UInt16, server: (host: String, port: UInt16)?, trustAD: Bool) -> DNSAnswer {
        func failed(_ why: String) -> DNSAnswer { DNSAnswer(status: .failure(why), secure: false, records: [], names: [], ttl: 0) }
        var state: __res_state = .init()  // not `__res_state()`: that name is also the thread-local accessor
        guard __res_ninit(&state) == 0 else { return failed("resolver initialisation failed") }
        defer { __res_nclose(&state) }
        Self.configure(&state, server: server)
        if trustAD { state.options |= UInt(RES_TRUSTAD) }
        var answer = [UInt8](repeating: 0, count: 8192)
        let length = res_nquery(&state, name, Int32(ns_c_in.rawValue), Int32(type), &answer, Int32(answer.count))
        // On NXDOMAIN, NODATA and SERVFAIL res_nquery returns -1 with the reply in the buffer;
        // the QR bit tells a reply from a timeout (buffer untouched).
        let received = answer[2] & 0x80 != 0
        let rcode = answer[3] & 0x0F
        let ad = trustAD && received && answer[3] & 0x20 != 0
        if length < 0 {
            guard received else { return failed("no reply to \(name) (h_errno \(state.res_h_errno))") }
            switch rcode {
            case 3: return DNSAnswer(status: .nxDomain, secure: ad, records: [], names: [], ttl: 0)
            case 0: return DNSAnswer(status: .noData, secure: ad, records: [], names: [], ttl: 0)
            case 2: return failed("SERVFAIL for \(name)")
            default: return failed("rcode \(rcode) for \(name)")
            }
        }
        return answer.withUnsafeBufferPointer { buffer -> DNSAnswer in
            var message = ns_msg()
            guard ns_initparse(buffer.baseAddress, length, &message) == 0 else { return failed("malformed DNS answer for \(name)") }
            var records: [(String, [UInt8])] = []
            var names: [String] = []
            var canonical: String?
            var ttl = UInt32.max
            for index in 0..<Int32(message._counts.1) {
                var rr = ns_rr()
                guard ns_parserr(&message, ns_s_an, index, &rr) == 0 else { return failed("malformed DNS answer for \(name)") }
                let owner = withUnsafeBytes(of: &rr.name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                let rdata = rr.rdata.map { Array(UnsafeBufferPointer(start: $0, count: Int(rr.rdlength))) } ?? []
                if rr.type == UInt16(typeCNAME) || rr.type == type && type == typeMX {
                    let offset = rr.type == typeMX ? 2 : 0
                    guard let start = rr.rdata, rr.rdlength > offset else { continue }
                    var expanded = [CChar](repeating: 0, count: Int(NS_MAXDNAME))
                    guard
                        dn_expand(buffer.baseAddress, buffer.baseAddress! + Int(length), start + offset, &expanded, Int32(expanded.count))
                            >= 0
                    else { return failed("malformed DNS answer for \(name)") }
                    let target = String(decoding: expanded.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                    if rr.type == typeCNAME {
                        canonical = target
                        continue
                    }
                    names.append(target)
                }
                guard rr.type == type else { continue }
                records.append((owner, rdata))
                ttl = min(ttl, rr.ttl)
            }
            if records.isEmpty {
                return DNSAnswer(status: .noData, secure: ad, records: [], canonicalName: canonical, names: [], ttl: 0)
            }
            return DNSAnswer(status: .records, secure: ad, records: records, canonicalName: canonical, names: names, ttl: ttl)
        }
    }

    /// Points a resolver state at one server (`--dns-server`), with short retries.
    static func configure(_ state: inout __res_state, server: (host: String, port: UInt16)?) {
        guard let server else { return }
        state.nscount = 1
        state.nsaddr_list.0.sin_family = sa_family_t(AF_INET)
        state.nsaddr_list.0.sin_port = server.port.bigEndian
        inet_pton(AF_INET, server.host, &state.nsaddr_list.0.sin_addr)
        state.retry = 2
        state.retrans = 2
    }

    /// The strings of one TXT record's RDATA, concatenated (RFC 8461 §3.1: a record split into
    /// several strings is read as one).
    public static func txt(_ rdata: [UInt8]) -> String {
        var out: [UInt8] = []
        var i = 0
        while i < rdata.count {
            let n = Int(rdata[i])
            let end = min(rdata.count, i + 1 + n)
            out.append(contentsOf: rdata[(i + 1)..<end])
            i = end
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether an address string is on loopback (127.0.0.0/8 or ::1): the only place an AD
    /// bit can be believed from.
    public static func isLoopback(_ address: String) -> Bool {
        if address == "::1" { return true }
        var v4 = in_addr()
        guard inet_pton(AF_INET, address, &v4) == 1 else { return false }
        return UInt32(bigEndian: v4.s_addr) >> 24 == 127
    }

    /// The `nameserver` lines of a resolv.conf text.
    public static func nameservers(resolvConf text: String) -> [String] {
        text.split(whereSeparator: \.isNewline).compactMap { line in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, fields[0] == "nameserver" else { return nil }
            return String(fields[1])
        }
    }
}
