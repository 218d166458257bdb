import SealpostCore
import SealpostSMTP

/// The "what would be blocked" decision for a recorded finding: the sender's governing policy
/// (proposed settings, or the domain's entry) asked about the connection as it was found —
/// `EnforcedTLSPolicy.checkConnection`, the same call that decides a real delivery.
public struct ImpactJudge: TLSImpactJudging {
    public init() {}

    public func wouldBlock(_ o: TLSObservation, settings: EnforcedTLSSettings, entries: [DomainTLSEntry]) -> TLSFailureDetail? {
        let sender = EnforcedTLSPolicy.governing(account: settings, entries: entries, domain: o.domain)
        var tls: TLSFacts?
        if o.encrypted {
            tls = TLSFacts(version: o.tlsVersion.flatMap(TLSVersion.init(rawValue:)), certificate: Self.verdict(o.certificate))
            if o.daneAuthenticated { tls?.dane = .endEntity }
        }
        guard let refusal = sender.checkConnection(ConnectionFacts(starttlsOffered: o.starttls, tls: tls), mxHost: o.domain) else {
            return nil
        }
        return OutcomeRecorder.detail(refusal, requiredLevel: sender.level, settings: sender.settings, mx: nil)
    }

    static func verdict(_ name: String?) -> CertificateVerdict {
        switch name {
        case "valid": .valid
        case "untrusted": .untrusted
        case "host-mismatch": .hostMismatch
        case "expired": .expired
        default: .invalid
        }
    }
}
