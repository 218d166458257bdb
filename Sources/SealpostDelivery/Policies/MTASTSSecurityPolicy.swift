import Foundation
import SealpostCore
import SealpostSMTP
import SealpostStorage
import Synchronization

/// MTA-STS (RFC 8461) as a security policy: `prepare` reads the `_mta-sts` TXT record, takes
/// the cached policy when its `id` still matches and `max_age` has not run out, and otherwise
/// fetches it (`MTASTSFetching`), storing it for every node and restart.
///
/// - A refetch or TXT lookup that fails keeps an unexpired cached policy (§5.1).
/// - No policy and a failed fetch: delivered as without a policy, `sts-policy-fetch-error`
///   (or `sts-webpki-invalid`, `sts-policy-invalid`) recorded on the delivery.
/// - A failed read of the store throws: the destination is deferred (fail closed).
public final class MTASTSSecurityPolicy: SecurityPolicy {
    public let name = "mta-sts"
    let dns: DNSClient
    let store: any MTASTSCacheStore
    let fetcher: any MTASTSFetching
    /// The last policy seen per domain, so a round reads the store only when the TXT `id`
    /// changed or the policy expired.
    private let memo = Mutex<[String: CachedMTASTSPolicy]>([:])
    /// Fetches that failed, per domain and TXT `id`, not tried again before `until`: a broken
    /// policy host costs one fetch a minute, not one per scheduling round.
    private let failures = Mutex<[String: (id: String, failure: TLSFailure, until: Date)]>([:])
    static let failureRetry: TimeInterval = 60
    /// Domains with a `--route`: the operator chose their next hop.
    let routedDomains: Set<String>

    public init(dns: DNSClient, store: any MTASTSCacheStore, fetcher: any MTASTSFetching, routedDomains: Set<String> = []) {
        self.dns = dns
        self.store = store
        self.fetcher = fetcher
        self.routedDomains = routedDomains
    }

    public func prepare(domain: String) async throws -> any PreparedPolicy {
        let key = domain.lowercased()
        if routedDomains.contains(key) { return PreparedMTASTS(policy: nil) }
        let now = Date()
        let id = await currentID(key)
        var cached = memo.withLock { $0[key] }
        if cached == nil || cached!.expiresAt <= now || (id != nil && cached!.id != id) {
            cached = try await store.cachedMTASTSPolicy(domain: key)  // another node may have fetched it
            if let cached { memo.withLock { $0[key] = cached } }
        }
        // The cached policy still in force (unexpired), whatever the TXT record says now.
        let fresh = cached.flatMap { $0.expiresAt > now ? $0 : nil }
        let freshPolicy = fresh.flatMap { MTASTSPolicyText.parse($0.text) }
        guard let id else {
            // No (valid) TXT record, or its lookup failed: an unexpired cached policy stays in force.
            return PreparedMTASTS(policy: freshPolicy)
        }
        if let freshPolicy, fresh?.id == id { return PreparedMTASTS(policy: freshPolicy) }
        if let failed = failures.withLock({ $0[key] }), failed.id == id, failed.until > now {
            return freshPolicy.map { PreparedMTASTS(policy: $0) } ?? PreparedMTASTS(policy: nil, fetchFailure: failed.failure)
        }
        let failure: TLSFailure
        switch await fetcher.fetch(domain: key) {
        case .success(let text):
            if let policy = MTASTSPolicyText.parse(text) {
                let entry = CachedMTASTSPolicy(
                    domain: key, id: id, text: text, fetchedAt: now, expiresAt: now.addingTimeInterval(TimeInterval(policy.maxAge)))
                try await store.saveMTASTSPolicy(entry)
                memo.withLock { $0[key] = entry }
                _ = failures.withLock { $0.removeValue(forKey: key) }
                return PreparedMTASTS(policy: policy)
            }
            failure = .stsPolicyInvalid
        case .failure(let error):
            failure = error.failure
        }
        failures.withLock { $0[key] = (id, failure, now.addingTimeInterval(Self.failureRetry)) }
        // A failed refetch keeps the unexpired cached policy (RFC 8461 §5.1).
        return freshPolicy.map { PreparedMTASTS(policy: $0) } ?? PreparedMTASTS(policy: nil, fetchFailure: failure)
    }

    /// The `id` of the domain's one valid STSv1 TXT record; `nil` when there is none, several,
    /// or the lookup failed (RFC 8461 §3.1).
    func currentID(_ domain: String) async -> String? {
        let answer = await dns.query("_mta-sts.\(domain)", type: DNSClient.typeTXT)
        let texts = answer.records.map { DNSClient.txt($0.rdata) }.filter { $0.hasPrefix("v=STSv1") }
        guard texts.count == 1 else { return nil }
        return MTASTSPolicyText.txtID(texts[0])
    }
}
