import Foundation
import Logging
import SealpostCore
import SealpostSMTP

/// The pre-flight TLS check: the delivery engine's own decision for one recipient domain,
/// without sending mail. The same pieces as a delivery, in the same order: the governing
/// setting (account or domain entry), the recipients' policies (DANE, MTA-STS) prepared for
/// the domain, the next hops (`--route`, MX, A/AAAA), `PolicySet.checkMX` per host, and a
/// session per host with no message in it (EHLO, STARTTLS, handshake, QUIT — never MAIL FROM),
/// judged by `PolicySet.afterHandshake` inside the client. Unlike a delivery it goes on to
/// every host, so the report shows each one.
public struct PreflightCheck: TLSChecking {
    let resolver: NextHopResolver
    /// The delivery client with the check's per-phase limits.
    let client: SMTPDeliveryClient
    let recipientPolicies: [any SecurityPolicy]
    let daneOn: Bool
    let mtaSTSOn: Bool
    /// The whole check's limit; hosts not reached by then are reported as not checked.
    let deadline: Duration
    let logger: Logger

    public init(
        resolver: NextHopResolver, client: SMTPDeliveryClient, recipientPolicies: [any SecurityPolicy], daneOn: Bool, mtaSTSOn: Bool,
        deadline: Duration = .seconds(30), logger: Logger
    ) {
        self.resolver = resolver
        self.client = client
        self.recipientPolicies = recipientPolicies
        self.daneOn = daneOn
        self.mtaSTSOn = mtaSTSOn
        self.deadline = deadline
        self.logger = logger
    }

    public func check(domain: String, settings: EnforcedTLSSettings, entries: [DomainTLSEntry]) async -> TLSCheckReport {
        let sender = EnforcedTLSPolicy.governing(account: settings, entries: entries, domain: domain)
        var report = TLSCheckReport(
            domain: domain, settings: settings,
            policies: .init(
                domainEntry: DomainTLSEntry.governing(domain, in: entries).map(TLSCheckReport.DomainEntry.init), dane: daneOn, mtaSTS: nil))
        let policy: PolicySet
        do {
            policy = try await PolicySet.prepare(DeliveryEngine.policies(for: sender, recipient: recipientPolicies), domain: domain)
        } catch {
            report.reason = "A TLS policy could not be prepared (\(error)); delivery would be deferred and tried again."
            return report
        }
        report.policies.mtaSTS = policy.policies.compactMap { ($0 as? PreparedMTASTS)?.policy?.mode.rawValue }.first
        if let refusal = policy.domainRefusal {
            report.tlsFailure = OutcomeRecorder.detail(refusal, requiredLevel: refusal.requiredLevel, settings: sender.settings, mx: nil)
            report.reason = Self.sentence(refusal, host: domain)
            return report
        }
        let hops: [NextHop]
        switch await resolver.resolve(domain: domain) {
        case .undeliverable(let why):
            report.reason = "The domain takes no mail: \(why)."
            return report
        case .temporaryFailure(let why):
            report.reason = "\(why); delivery would be deferred and tried again."
            return report
        case .hosts(let found): hops = found
        }
        let end = ContinuousClock.now + deadline
        let destination = DestinationDelivery(resolver: resolver, client: client, logger: logger)
        for hop in hops {
            var host = TLSCheckReport.Host(host: hop.host, preference: hop.preference, addresses: [])
            host.dane = daneOn ? policy.describe(policy: "dane", mxHost: hop.host) : nil
            host.mtaSTS = mtaSTSOn ? policy.describe(policy: "mta-sts", mxHost: hop.host) : nil
            guard ContinuousClock.now < end else {
                host.reason = "Not checked: the check's \(deadline) limit was reached."
                report.mx.append(host)
                continue
            }
            switch policy.checkMX(hop.host) {
            case .refuse(let refusal):
                host.tlsFailure = OutcomeRecorder.detail(
                    refusal, requiredLevel: refusal.requiredLevel, settings: sender.settings, mx: hop.host)
                host.reason = "Never connected to: " + Self.sentence(refusal, host: hop.host)
            case .use(let level):
                host.addresses = await resolver.addresses(of: hop.host) ?? Self.systemAddresses(hop.host)
                let outcome = await withDeadline(end) { await destination.connect([], to: hop, policy: policy, onMessage: nil) }
                switch outcome {
                case .completed(let tls, _):
                    host.wouldDeliver = true
                    Self.describe(tls, into: &host)
                case .policyRefused(let refusal, let facts):
                    host.starttls = facts.starttlsOffered
                    if let tls = facts.tls {
                        host.tlsVersion = tls.version?.rawValue
                        host.certificate = Self.certificate(tls.certificate, tls.summary)
                    }
                    host.tlsFailure = OutcomeRecorder.detail(refusal, requiredLevel: level, settings: sender.settings, mx: hop.host)
                    host.reason = Self.sentence(refusal, host: hop.host)
                case .unreachable(let why):
                    host.reason = "Not reached: \(why)."
                case nil:
                    host.reason = "Not reached: the check's \(deadline) limit was reached."
                }
            }
            report.mx.append(host)
        }
        report.conclude()
        return report
    }

    /// `body`, or `nil` when `end` comes first (the session is cancelled).
    func withDeadline(_ end: ContinuousClock.Instant, _ body: @escaping @Sendable () async -> SessionOutcome) async -> SessionOutcome? {
        await withTaskGroup(of: SessionOutcome?.self) { group in
            group.addTask { await body() }
            group.addTask {
                try? await Task.sleep(until: end, clock: .continuous)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    static func describe(_ tls: SessionTLS, into host: inout TLSCheckReport.Host) {
        host.starttls = tls.reached != .none
        host.tlsVersion = tls.version?.rawValue
        if let verdict = tls.certificate { host.certificate = certificate(verdict, tls.summary) }
    }

    /// The verdict as reports write it.
    static func verdictName(_ verdict: CertificateVerdict) -> String {
        switch verdict {
        case .valid: "valid"
        case .untrusted: "untrusted"
        case .hostMismatch: "host-mismatch"
        case .expired: "expired"
        case .invalid: "invalid"
        }
    }

    static func certificate(_ verdict: CertificateVerdict, _ summary: CertificateSummary?) -> TLSCheckReport.Certificate {
        TLSCheckReport.Certificate(
            verdict: verdictName(verdict), subject: summary?.subject, issuer: summary?.issuer, notAfter: summary?.notAfter,
            dnsNames: summary?.dnsNames ?? [])
    }

    /// A sentence for a policy's refusal, naming the policy, the host and what was missing.
    static func sentence(_ refusal: PolicyRefusal, host: String) -> String {
        let what: String =
            switch refusal.failure {
            case .starttlsNotSupported: "\(host) does not offer STARTTLS"
            case .certificateNotTrusted: "the certificate of \(host) does not chain to a trusted root"
            case .certificateHostMismatch: "the certificate of \(host) is not for that name"
            case .certificateExpired: "the certificate of \(host) has expired or is not yet valid"
            case .validationFailure:
                "\(host) could not be authenticated (the TLS handshake failed or the certificate matched no TLSA record)"
            case .tlsVersionTooLow: "\(host) negotiated a TLS version below the minimum"
            case .tlsaInvalid: "the TLSA records of \(host) are all unusable"
            case .dnssecInvalid: "a DNSSEC lookup for \(host) was bogus or failed"
            case .stsPolicyInvalid: "the MTA-STS policy is invalid"
            case .stsWebpkiInvalid: "the MTA-STS policy host's certificate did not verify"
            case .stsPolicyFetchError: "the MTA-STS policy could not be fetched"
            case .requireTLSNotSupported: "\(host) does not meet REQUIRETLS"
            }
        let outcome = refusal.permanence == .permanent ? "the mail would be blocked" : "the mail would be deferred and tried again"
        return "TLS policy \(refusal.policy) not met: \(what) (\(refusal.failure.rawValue)); \(outcome)."
    }

    /// The host's addresses from the system resolver (what a connection by name would try).
    static func systemAddresses(_ host: String) -> [String] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else { return [] }
        defer { freeaddrinfo(first) }
        var out: [String] = []
        var node: UnsafeMutablePointer<addrinfo>? = first
        while let n = node {
            var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            if getnameinfo(n.pointee.ai_addr, n.pointee.ai_addrlen, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST) == 0 {
                let s = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                if !out.contains(s) { out.append(s) }
            }
            node = n.pointee.ai_next
        }
        return out
    }
}
