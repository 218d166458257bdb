/// Postfix's TLS security ladder (TLS_README): each rung demands everything below it.
///
/// - `none`: plaintext only. - `may`: TLS when offered, plaintext otherwise (opportunistic).
/// - `encrypt`: TLS mandatory, any certificate. - `verify`: TLS with a verified certificate.
public enum SecurityLevel: Int, Comparable, Sendable, CaseIterable, CustomStringConvertible {
    case none = 0
    case may
    case encrypt
    case verify

    public static func < (lhs: SecurityLevel, rhs: SecurityLevel) -> Bool { lhs.rawValue < rhs.rawValue }

    public var description: String {
        switch self {
        case .none: "none"
        case .may: "may"
        case .encrypt: "encrypt"
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
/// `tls-version-too-low`, which TLS-RPT has no name for.
public enum TLSFailure: String, Sendable, Equatable, CaseIterable {
    case starttlsNotSupported = "starttls-not-supported"
    case certificateNotTrusted = "certificate-not-trusted"
    case certificateHostMismatch = "certificate-host-mismatch"
    case certificateExpired = "certificate-expired"
    case validationFailure = "validation-failure"
    case tlsVersionTooLow = "tls-version-too-low"
}
