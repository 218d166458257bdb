import SealpostCore

/// What our own check of the server's certificate found. The handshake itself accepts any
/// certificate, so that opportunistic delivery works and failures can be named precisely.
public enum CertificateVerdict: Sendable, Equatable {
    case valid
    case untrusted
    case hostMismatch
    case expired
    /// Anything else (unparsable, no certificate at all).
    case invalid

    /// The RFC 8460 result type of a certificate that is not valid; `nil` when it is.
    public var failure: TLSFailure? {
        switch self {
        case .valid: nil
        case .untrusted: .certificateNotTrusted
        case .hostMismatch: .certificateHostMismatch
        case .expired: .certificateExpired
        case .invalid: .validationFailure
        }
    }
}

/// What one SMTP connection offered and negotiated: the input of every policy decision.
public struct ConnectionFacts: Sendable, Equatable {
    public var starttlsOffered: Bool
    /// `nil` when the session is in plaintext.
    public var tls: TLSFacts?

    public init(starttlsOffered: Bool, tls: TLSFacts?) {
        self.starttlsOffered = starttlsOffered
        self.tls = tls
    }
}

public struct TLSFacts: Sendable, Equatable {
    /// `nil` when the negotiated protocol is older than TLS 1.1 (TLS 1.0, SSL): below every setting.
    public var version: TLSVersion?
    public var certificate: CertificateVerdict
    /// The negotiated cipher suite, when the TLS library reports it.
    public var cipher: String?
    /// The chain matched against the host's usable TLSA records; `nil` when it has none.
    public var dane: DANEMatch?
    /// What the leaf certificate says (the pre-flight check shows it); `nil` when unparsable.
    public var summary: CertificateSummary?

    public init(
        version: TLSVersion?, certificate: CertificateVerdict, cipher: String? = nil, dane: DANEMatch? = nil,
        summary: CertificateSummary? = nil
    ) {
        self.version = version
        self.certificate = certificate
        self.cipher = cipher
        self.dane = dane
        self.summary = summary
    }

    /// Whether the server is authenticated: by the trust roots and its name, or by DANE.
    public var authenticated: Bool { certificate == .valid || daneAuthenticated }

    public var daneAuthenticated: Bool { dane == .endEntity || dane == .trustAnchor }

    public var reached: ReachedLevel { authenticated ? .verified : .encrypted }
}

/// The leaf certificate a server presented, as the pre-flight check reports it.
public struct CertificateSummary: Sendable, Equatable {
    public var subject: String
    public var issuer: String
    /// Unix time, as delivery events write times.
    public var notAfter: Int
    public var dnsNames: [String]

    public init(subject: String, issuer: String, notAfter: Int, dnsNames: [String]) {
        self.subject = subject
        self.issuer = issuer
        self.notAfter = notAfter
        self.dnsNames = dnsNames
    }
}
