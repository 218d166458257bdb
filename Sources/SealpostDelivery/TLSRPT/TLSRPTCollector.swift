import Foundation
import SealpostCore
import SealpostSMTP
import Synchronization

/// Gathers one scheduling round's sessions for TLS reporting (RFC 8460), written once per
/// round. A session is one SMTP connection on which the TLS decision was made (it reached
/// EHLO): refused by any policy, or carried on. Unreachable hosts are not sessions.
final class TLSRPTCollector: Sendable {
    private let found = Mutex<[TLSRPTSession: Int]>([:])

    func add(_ session: TLSRPTSession) {
        found.withLock { $0[session.key, default: 0] += session.sessions }
    }

    func drain() -> [TLSRPTSession] {
        found.withLock { found in
            defer { found = [:] }
            return found.map { key, n in
                var s = key
                s.sessions = n
                return s
            }
        }
    }
}

/// How a session is judged for TLS reporting, as a pure function of what the session found.
enum TLSRPTJudge {
    /// An RFC 8460 result type for `failure`, and Sealpost's own name as the
    /// `failure-reason-code` where RFC 8460 has none.
    static func resultType(_ failure: TLSFailure) -> (String, String?) {
        switch failure {
        case .tlsVersionTooLow, .requireTLSNotSupported: ("validation-failure", failure.rawValue)
        default: (failure.rawValue, nil)
        }
    }

    /// The failure of a session, or `nil` for a successful one: a refusal by any policy (the
    /// sender's too), plaintext, what a `testing` policy would have refused, or a failure the
    /// policies recorded on a session that went ahead (`tlsa-invalid`, `sts-policy-fetch-error`).
    static func failure(
        refusal: PolicyRefusal?, starttlsOffered: Bool, encrypted: Bool, violation: TLSFailure?, recorded: [TLSFailure]
    ) -> TLSFailure? {
        if let refusal { return refusal.failure }
        if !encrypted { return starttlsOffered ? .validationFailure : .starttlsNotSupported }
        if let violation { return violation }
        return recorded.first
    }

    static func session(
        domain: String, mxHost: String, policy: PolicySet, failure: TLSFailure?, endpoints: SessionEndpoints, now: Date
    ) -> TLSRPTSession {
        let detail = failure.map { f -> TLSRPTSession.Failure in
            let (type, code) = resultType(f)
            return TLSRPTSession.Failure(
                resultType: type, sendingIP: endpoints.local ?? "", receivingMX: PreparedDANE.key(mxHost),
                receivingIP: endpoints.remote ?? "", reasonCode: code)
        }
        return TLSRPTSession(
            day: Int(now.timeIntervalSince1970) / 86_400, domain: domain.lowercased(), policy: policy.reportPolicy(mxHost: mxHost),
            failure: detail, sessions: 1)
    }
}
