/// Postfix's TLS security ladder (TLS_README): each rung demands everything below it.
///
/// - `none`: plaintext only. - `may`: TLS when offered, plaintext otherwise (opportunistic).
/// - `encrypt`: TLS mandatory, any certificate. - `dane`: TLS with a certificate that matches
/// the host's usable TLSA records (RFC 7672). - `verify`: TLS with a verified certificate (a
/// DANE-authenticated one counts: both authenticate the server).
public enum SecurityLevel: Int, Comparable, Sendable, CaseIterable, CustomStringConvertible {
    case none = 0
    case may
    case encrypt
    case dane
    case verify

    public static func < (lhs: SecurityLevel, rhs: SecurityLevel) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String {
        switch self {
        case .none: "none"
        case .may: "may"
        case .encrypt: "encrypt"
        case .dane: "dane"
        case .verify: "verify"
        }
    }
}

/// What a delivery actually achieved, as logged and reported in events.
public enum ReachedLevel: String, Sendable, Equatable {
    case none
    case encrypted
    case verified
}

/// Why a connection did not meet a policy: RFC 8460 (TLS-RPT) result types, plus
/// `tls-version-too-low` and `requiretls-not-supported`, which TLS-RPT has no name for.
public enum TLSFailure: String, Sendable, Equatable, CaseIterable {
    case starttlsNotSupported = "starttls-not-supported"
    case certificateNotTrusted = "certificate-not-trusted"
    case certificateHostMismatch = "certificate-host-mismatch"
    case certificateExpired = "certificate-expired"
    case validationFailure = "validation-failure"
    case tlsVersionTooLow = "tls-version-too-low"
    /// REQUIRETLS (RFC 8689): the server does not offer it, or the MX host was not found securely.
    case requireTLSNotSupported = "requiretls-not-supported"
    /// DANE: TLSA records exist but none is usable for SMTP (recorded; TLS goes on unauthenticated).
    case tlsaInvalid = "tlsa-invalid"
    /// DANE: a lookup the decision needs was bogus or failed under DNSSEC.
    case dnssecInvalid = "dnssec-invalid"
    /// MTA-STS: the policy text could not be parsed or is not a valid policy.
    case stsPolicyInvalid = "sts-policy-invalid"
    /// MTA-STS: the policy host's HTTPS certificate did not verify.
    case stsWebpkiInvalid = "sts-webpki-invalid"
    /// MTA-STS: the policy could not be fetched.
    case stsPolicyFetchError = "sts-policy-fetch-error"
}
