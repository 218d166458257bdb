import AsyncHTTPClient
import Foundation
import Metrics
import NIOCore
import NIOPosix
import NIOSSL
import SealpostSMTP
import Synchronization

/// Fetches `https://mta-sts.<domain>/.well-known/mta-sts.txt` (RFC 8461 §3.3).
public protocol MTASTSFetching: Sendable {
    /// The policy body, or the RFC 8460 result type naming why there is none.
    func fetch(domain: String) async -> Result<String, MTASTSFetchError>
}

public struct MTASTSFetchError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `sts-webpki-invalid` (the policy host's certificate), `sts-policy-invalid` (what it
    /// served is not a policy), `sts-policy-fetch-error` (anything else).
    public var failure: TLSFailure
    public var reason: String

    public init(_ failure: TLSFailure, _ reason: String) {
        self.failure = failure
        self.reason = reason
    }

    public var description: String { "\(failure.rawValue): \(reason)" }
}

/// The HTTPS fetch with async-http-client: the policy host's certificate verified for its name
/// against the trust roots (the system's or `--trust-roots`), status 200 only, no redirects,
/// `text/plain`, at most 64 KiB, within a time limit; the host's address from the delivery's
/// resolver (every lookup of a delivery goes through one resolver).
public final class HTTPSPolicyFetcher: MTASTSFetching {
    let dns: DNSClient
    /// 443; other values are for test set-ups (`--mta-sts-port`).
    let port: Int
    /// PEM file of trust roots; `nil`: the system's.
    let trustRoots: String?
    let timeout: TimeAmount
    static let maxBytes = 64 * 1024
    private let fetches = Atomic<Int>(0)

    public init(dns: DNSClient, port: Int = 443, trustRoots: String? = nil, timeout: TimeAmount = .seconds(10)) {
        self.dns = dns
        self.port = port
        self.trustRoots = trustRoots
        self.timeout = timeout
    }

    /// HTTPS requests made so far.
    public var fetchCount: Int { fetches.load(ordering: .relaxed) }

    public func fetch(domain: String) async -> Result<String, MTASTSFetchError> {
        let host = "mta-sts.\(domain)"
        let address = await dns.query(host, type: DNSClient.typeA)
        guard let rdata = address.records.first?.rdata, rdata.count == 4 else {
            return .failure(MTASTSFetchError(.stsPolicyFetchError, "\(host) has no address"))
        }
        fetches.add(1, ordering: .relaxed)
        Counter(label: "sealpost_mta_sts_fetches_total").increment()
        let ip = rdata.map(String.init).joined(separator: ".")
        let client = VerifyingHTTPSClient.make(host: host, ip: ip, trustRoots: trustRoots, connect: timeout, read: timeout)
        let result = await Self.get(client, url: "https://\(host):\(port)/.well-known/mta-sts.txt", timeout: timeout)
        try? await client.shutdown()
        return result
    }

    static func get(_ client: HTTPClient, url: String, timeout: TimeAmount) async -> Result<String, MTASTSFetchError> {
        do {
            let response = try await client.execute(HTTPClientRequest(url: url), timeout: timeout)
            guard response.status == .ok else {
                return .failure(MTASTSFetchError(.stsPolicyFetchError, "HTTP \(response.status.code) from \(url)"))
            }
            let type = response.headers.first(name: "content-type")?.lowercased() ?? ""
            guard type.split(separator: ";").first?.trimmingCharacters(in: .whitespaces) == "text/plain" else {
                return .failure(MTASTSFetchError(.stsPolicyInvalid, "content type \(type.isEmpty ? "missing" : type), not text/plain"))
            }
            let body = try await response.body.collect(upTo: maxBytes)
            return .success(String(decoding: body.readableBytesView, as: UTF8.self))
        } catch {
            let text = "\(error)"
            if error is NIOSSLExtraError || text.contains("CERTIFICATE_VERIFY_FAILED") || text.contains("certificate") {
                return .failure(MTASTSFetchError(.stsWebpkiInvalid, "\(url): \(text)"))
            }
            return .failure(MTASTSFetchError(.stsPolicyFetchError, "\(url): \(text)"))
        }
    }
}
