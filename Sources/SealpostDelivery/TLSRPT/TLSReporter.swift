import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import SealpostCore
import SealpostStorage

/// Who reports (`--tlsrpt-organization`, `--tlsrpt-contact`, `--tlsrpt-from`).
public struct TLSReportConfiguration: Sendable {
    public var organization: String
    public var contact: String
    /// The `From` of `mailto:` reports; its domain is the report's submitter.
    public var from: String
    /// Trust roots for `https:` collectors (`--trust-roots`; `nil`: the system's).
    public var trustRoots: String?
    public var lease: TimeInterval = 300
    /// First retry after a failed attempt; doubles per attempt up to six hours.
    public var retryBase: TimeInterval = 300

    public init(organization: String, contact: String, from: String, trustRoots: String?) {
        self.organization = organization
        self.contact = contact
        self.from = from
        self.trustRoots = trustRoots
    }

    public var submitter: String {
        guard let at = from.lastIndex(of: "@") else { return from }
        return String(from[from.index(after: at)...]).lowercased()
    }
}

/// Sends TLS reports (RFC 8460 §5): for a day, every policy domain with sessions gets its report
/// row (once), then each claimed row is built from the stored sessions and sent to every `rua`
/// of the domain's `_smtp._tls` record: `https:` as a POST of the gzipped JSON, `mailto:` as a
/// message through Sealpost's own queue. A row is leased while it is sent, so two nodes (or a
/// node and `sealpost tlsrpt send`) never send the same report; a `rua` that fails is retried
/// with backoff, the others are not sent to again.
public struct TLSReporter: Sendable {
    let store: any SealpostStore
    let dns: DNSClient
    let configuration: TLSReportConfiguration
    let logger: Logger
    /// Called after a `mailto:` report is queued (the engine's wake-up).
    let queued: @Sendable () -> Void
    /// The name of the account that owns queued reports.
    public static let account = "sealpost-tlsrpt"

    public init(
        store: any SealpostStore, dns: DNSClient, configuration: TLSReportConfiguration, logger: Logger,
        queued: @escaping @Sendable () -> Void = {}
    ) {
        self.store = store
        self.dns = dns
        self.configuration = configuration
        self.logger = logger
        self.queued = queued
    }

    public struct Summary: Sendable, Equatable {
        public var sent = 0
        public var notWanted = 0
        public var failed = 0
    }

    /// Plans `day`'s reports and sends the due ones (`day` only; every day for `nil`).
    /// `end`: the report's last second (the moment of sending, for a day not over yet).
    public func run(day: Int?, plan: [Int], end: (Int) -> Int, now: Date = Date()) async throws -> Summary {
        for d in plan { try await store.planTLSReports(day: d, now: now) }
        var summary = Summary()
        while true {
            let jobs = try await store.claimTLSReports(day: day, now: now, lease: configuration.lease, limit: 20)
            if jobs.isEmpty { break }
            for job in jobs {
                let outcome = await attempt(job, end: end(job.day), now: now)
                let held = try await store.finishTLSReport(job, outcome, now: Date())
                switch outcome {
                case .sent: if held { summary.sent += 1 }
                case .noReportWanted: if held { summary.notWanted += 1 }
                case .retry(_, _, let error):
                    summary.failed += 1
                    logger.warning("TLS report not sent; retried later", metadata: ["domain": "\(job.domain)", "error": "\(error)"])
                }
            }
        }
        return summary
    }

    func attempt(_ job: TLSReportJob, end: Int, now: Date) async -> TLSReportOutcome {
        let retry = { (done: [String], error: String) -> TLSReportOutcome in
            let delay = min(6 * 3600, configuration.retryBase * pow(2, Double(max(0, job.attempts - 1))))
            return .retry(until: now.addingTimeInterval(delay), done: done, error: error)
        }
        let answer = await dns.query("_smtp._tls.\(job.domain)", type: DNSClient.typeTXT)
        switch answer.status {
        case .failure(let why): return retry(job.done, "the _smtp._tls lookup failed: \(why)")
        case .nxDomain, .noData: return .noReportWanted
        case .records: break
        }
        guard let ruas = TLSRPTRecord.reportingURIs(answer.records.map { DNSClient.txt($0.rdata) }) else { return .noReportWanted }
        let payload: [UInt8]
        let report: TLSReport
        do {
            let sessions = try await store.tlsrptSessions(day: job.day, domain: job.domain)
            report = TLSReport(
                organization: configuration.organization, contact: configuration.contact, reportID: job.reportID, domain: job.domain,
                start: TLSReport.dayRange(job.day).start, end: end, sessions: sessions)
            payload = try Gzip.compress(Array(try report.json()))
        } catch {
            return retry(job.done, "the report could not be built: \(error)")
        }
        var done = job.done
        var errors: [String] = []
        for rua in ruas where !done.contains(rua) {
            do {
                if rua.lowercased().hasPrefix("https://") {
                    try await post(payload, to: rua)
                } else {
                    try await mail(report, payload, to: String(rua.dropFirst("mailto:".count)), now: now)
                }
                done.append(rua)
                logger.info(
                    "TLS report sent",
                    metadata: ["domain": "\(job.domain)", "rua": "\(rua)", "report_id": "\(job.reportID)", "day": "\(job.day)"])
            } catch {
                errors.append("\(rua): \(error)")
            }
        }
        return errors.isEmpty ? .sent(done: done) : retry(done, errors.joined(separator: "; "))
    }

    struct CollectorError: Error, CustomStringConvertible {
        var description: String
    }

    /// RFC 8460 §5.3.2: POST, `Content-Type: application/tlsrpt+gzip`; any 2xx is success.
    func post(_ payload: [UInt8], to url: String) async throws {
        guard let parsed = URL(string: url), let host = parsed.host else { throw CollectorError(description: "not a URL") }
        // The collector's name goes through the same resolver as every delivery lookup.
        let a = await dns.query(host, type: DNSClient.typeA)
        let ip = a.records.first.flatMap { $0.rdata.count == 4 ? $0.rdata.map(String.init).joined(separator: ".") : nil }
        let client = VerifyingHTTPSClient.make(
            host: host, ip: ip, trustRoots: configuration.trustRoots, connect: .seconds(10), read: .seconds(30))
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/tlsrpt+gzip")
        request.body = .bytes(ByteBuffer(bytes: payload))
        let status: Result<UInt, any Error>
        do {
            let response = try await client.execute(request, timeout: .seconds(30))
            _ = try? await response.body.collect(upTo: 64 * 1024)
            status = .success(response.status.code)
        } catch {
            status = .failure(error)
        }
        try? await client.shutdown()
        let code = try status.get()
        guard (200..<300).contains(code) else { throw CollectorError(description: "HTTP \(code)") }
    }

    /// Queues the report as mail from `--tlsrpt-from`, signed when its domain is authenticated.
    func mail(_ report: TLSReport, _ payload: [UInt8], to address: String, now: Date) async throws {
        let owner = try await reportAccount()
        let xMessageID = MessageIDs.newMessageID()
        let messageID = "\(xMessageID).tlsrpt@\(configuration.submitter)"
        var content = report.message(
            from: configuration.from, to: address, submitter: configuration.submitter, gzipped: payload, messageID: messageID,
            date: now)
        let signing = IntakeSigning(domains: try await store.authenticatedDomains(ownerID: nil))
        content = try signing.sign(content, from: configuration.from, now: now)
        let message = NewMessage(
            id: "\(xMessageID).0", xMessageID: xMessageID, userID: owner.id, mailFrom: configuration.from, smtpID: "<\(messageID)>",
            content: content, categories: ["tlsrpt"], customArgs: ["tlsrpt_domain": report.domain], recipients: [address],
            notBefore: now)
        try await store.enqueue([message], events: [], lifetime: 72 * 3600)
        queued()
    }

    /// The account queued reports belong to, made on first use (two nodes may race: the loser
    /// reads the winner's).
    func reportAccount() async throws -> User {
        if let user = try await store.user(named: Self.account) { return user }
        do {
            return try await store.createAccount(name: Self.account, email: nil)
        } catch {
            if let user = try await store.user(named: Self.account) { return user }
            throw error
        }
    }
}
