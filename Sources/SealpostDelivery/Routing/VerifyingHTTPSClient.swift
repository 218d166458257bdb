import AsyncHTTPClient
import NIOCore
import NIOPosix
import NIOSSL

/// The HTTPS client of every fetch and post a delivery decision or report needs (MTA-STS
/// policies, TLS-RPT collectors): TLS 1.2 or newer, the certificate verified for the name
/// (`--trust-roots` or the system's), no redirects, one connection attempt, and the address
/// found through Sealpost's own resolver (`ip`) rather than getaddrinfo. The caller shuts it down.
enum VerifyingHTTPSClient {
    static func make(host: String, ip: String?, trustRoots: String?, connect: TimeAmount, read: TimeAmount) -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.certificateVerification = .fullVerification
        if let trustRoots { tls.trustRoots = .file(trustRoots) }
        var configuration = HTTPClient.Configuration(
            tlsConfiguration: tls, redirectConfiguration: .disallow, timeout: .init(connect: connect, read: read))
        if let ip { configuration.dnsOverride = [host: ip] }
        // One attempt: a host that fails its handshake fails now, instead of being retried with
        // backoff until the connect timeout while the caller waits.
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup.singleton), configuration: configuration)
    }
}
