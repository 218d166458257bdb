import Foundation

/// The submission server's side of an SMTP session (RFC 5321, RFC 6409, RFC 3207 STARTTLS,
/// RFC 4954 AUTH PLAIN/LOGIN), as a pure state machine: frames and backend answers in,
/// `Action`s out. `SubmissionSession` carries the actions out on a NIO channel; the tests
/// and the fuzzer drive this type with no socket.
///
/// Three steps need the backend and suspend the machine until it answers: checking the API
/// key (`authenticate`), admitting each message against the key's rate limit (`authorize`),
/// and queueing a message durably (`submit`, which re-reads the key first so that a revoked
/// key stops at the next message; its answer is the only way to a `250` after DATA).
public struct SMTPServerStateMachine: Sendable {
    public struct Configuration: Sendable {
        public var hostname: String
        public var maxMessageSize: Int = 31_457_280
        public var maxRecipients: Int = 1000
        /// STARTTLS can be offered (a certificate is configured and TLS is not yet on).
        public var startTLSAvailable: Bool
        /// AUTH before TLS: only for a loopback listener without a certificate (development).
        public var plaintextAuthAllowed: Bool
        /// Bad commands before the session is closed with `421`.
        public var maxErrors: Int = 20
        /// The envelope form of an address (IDN domains as A-labels), or nil when invalid.
        public var normalizeAddress: @Sendable (String) -> String?

        public init(
            hostname: String, startTLSAvailable: Bool, plaintextAuthAllowed: Bool,
            normalizeAddress: @escaping @Sendable (String) -> String?
        ) {
            self.hostname = hostname
            self.startTLSAvailable = startTLSAvailable
            self.plaintextAuthAllowed = plaintextAuthAllowed
            self.normalizeAddress = normalizeAddress
        }
    }

    /// A message ready to queue: the envelope and the bytes as received (dot-unstuffed).
    public struct Envelope: Equatable, Sendable {
        public var mailFrom: String
        public var recipients: [String]
        public var data: [UInt8]
        public var helo: String
        public var tls: Bool
        /// MAIL carried `SMTPUTF8` (RFC 6531): UTF-8 in the headers is meant as such.
        public var smtpUTF8: Bool = false
        /// MAIL carried `REQUIRETLS` (RFC 8689): delivered only over verified TLS to securely
        /// found hosts that take the option, or bounced.
        public var requireTLS: Bool = false
    }

    public enum Event: Equatable, Sendable {
        case connected
        case frame(SMTPServerFramer.Frame)
        case tlsEstablished
        case authenticated
        case authenticationFailed
        /// The key could not be checked (database unavailable): `454`, try again.
        case authenticationUnavailable
        case authorized
        /// The message may not be sent now (rate limit, revoked key): the reply to MAIL, and
        /// whether the session is no longer authenticated.
        case refused(reply: String, signedOut: Bool)
        case submitted(queueID: String)
        case submitFailed(reply: String, signedOut: Bool = false)
        case timeout
    }

    public enum Action: Equatable, Sendable {
        case reply(String)
        /// After the `220` is written: drop buffered input, start the TLS handshake.
        case startTLS
        /// Check the API key (the password; never logged), then feed `authenticated`,
        /// `authenticationFailed` or `authenticationUnavailable`.
        case authenticate(password: String)
        /// Admit one more message (rate limit); feed `authorized` or `refused`.
        case authorize
        /// The framer reads a message from here on.
        case receiveMessage
        /// Queue durably; feed `submitted` or `submitFailed`.
        case submit(Envelope)
        case close
    }

    enum Phase: Equatable, Sendable {
        case connecting
        case ready
        case authPlainResponse
        case authLoginUser
        case authLoginPassword
        case authenticating
        case authorizing(from: String)
        case data
        case submitting
        case closed
    }

    public let configuration: Configuration
    private(set) var phase: Phase = .connecting
    private(set) var helo: String?
    private(set) var tls: Bool
    private(set) var authenticatedUser = false
    private var mailFrom: String?
    private var recipients: [String] = []
    private var smtpUTF8 = false
    private var requireTLS = false
    private var errors = 0

    public init(configuration: Configuration, implicitTLS: Bool = false) {
        self.configuration = configuration
        self.tls = implicitTLS
    }

    /// False while a backend answer is awaited: the driver holds further frames until then.
    public var acceptsFrames: Bool {
        switch phase {
        case .authenticating, .authorizing, .submitting, .closed, .connecting: false
        default: true
        }
    }

    /// Longer lines are allowed for SASL responses (RFC 4954 §4: 12,288 octets).
    public var lineLimit: Int {
        switch phase {
        case .authPlainResponse, .authLoginUser, .authLoginPassword: 12_288
        default: 512
        }
    }

    var authOffered: Bool { tls || configuration.plaintextAuthAllowed }

    public mutating func handle(_ event: Event) -> [Action] {
        switch (phase, event) {
        case (.closed, _): return []
        case (_, .timeout):
            return close("421 4.4.2 \(configuration.hostname) Error: timeout exceeded")
        case (.connecting, .connected):
            phase = .ready
            return [.reply("220 \(configuration.hostname) ESMTP Sealpost")]
        case (.ready, .tlsEstablished) where !tls:
            // RFC 3207 §4.2: everything learnt before TLS is forgotten.
            tls = true
            helo = nil
            authenticatedUser = false
            resetTransaction()
            return []
        case (.ready, .frame(let frame)):
            return command(frame)
        case (.authPlainResponse, .frame(let frame)), (.authLoginUser, .frame(let frame)), (.authLoginPassword, .frame(let frame)):
            return saslResponse(frame)
        case (.authenticating, .authenticated):
            phase = .ready
            authenticatedUser = true
            return [.reply("235 2.7.0 Authentication successful")]
        case (.authenticating, .authenticationFailed):
            phase = .ready
            return failure("535 5.7.8 Authentication credentials invalid")
        case (.authenticating, .authenticationUnavailable):
            phase = .ready
            return [.reply("454 4.7.0 Temporary authentication failure; try again later")]
        case (.authorizing(let from), .authorized):
            phase = .ready
            mailFrom = from
            return [.reply("250 2.1.0 Ok")]
        case (.authorizing, .refused(let reply, let signedOut)):
            phase = .ready
            if signedOut { authenticatedUser = false }
            return [.reply(reply)]
        case (.data, .frame(.message(let bytes))):
            phase = .submitting
            let envelope = Envelope(
                mailFrom: mailFrom ?? "", recipients: recipients, data: bytes, helo: helo ?? "", tls: tls, smtpUTF8: smtpUTF8,
                requireTLS: requireTLS)
            return [.submit(envelope)]
        case (.data, .frame(.messageTooLarge)):
            phase = .ready
            resetTransaction()
            return [.reply("552 5.3.4 Message size exceeds fixed maximum message size")]
        case (.submitting, .submitted(let id)):
            phase = .ready
            resetTransaction()
            return [.reply("250 2.0.0 Ok: queued as \(id)")]
        case (.submitting, .submitFailed(let reply, let signedOut)):
            phase = .ready
            resetTransaction()
            if signedOut { authenticatedUser = false }
            return [.reply(reply)]
        default:
            // An event the phase does not expect (a driver bug, not a client's): end cleanly.
            return close("421 4.3.0 \(configuration.hostname) Error: internal state")
        }
    }

    private mutating func command(_ frame: SMTPServerFramer.Frame) -> [Action] {
        guard case .line(let line) = frame else {
            return failure(frame == .lineTooLong ? "500 5.5.2 Line too long" : "503 5.5.1 Bad sequence of commands")
        }
        switch SMTPCommand.parse(line) {
        case .ehlo(let name):
            helo = name
            resetTransaction()
            var lines = [configuration.hostname, "PIPELINING", "SIZE \(configuration.maxMessageSize)", "8BITMIME", "SMTPUTF8"]
            lines.append("ENHANCEDSTATUSCODES")
            if !tls && configuration.startTLSAvailable { lines.append("STARTTLS") }
            // RFC 8689 §4.1: only over TLS, so the option itself cannot be stripped in transit.
            if tls { lines.append("REQUIRETLS") }
            if authOffered { lines.append("AUTH PLAIN LOGIN") }
            return [.reply(Self.multiline(250, lines))]
        case .helo(let name):
            helo = name
            resetTransaction()
            return [.reply("250 \(configuration.hostname)")]
        case .startTLS:
            if tls { return failure("503 5.5.1 TLS already active") }
            guard configuration.startTLSAvailable else { return failure("502 5.5.1 STARTTLS not available") }
            guard helo != nil else { return failure("503 5.5.1 Send EHLO first") }
            return [.reply("220 2.0.0 Ready to start TLS"), .startTLS]
        case .auth(let mechanism, let initial):
            guard helo != nil else { return failure("503 5.5.1 Send EHLO first") }
            guard authOffered else { return failure("538 5.7.11 Encryption required for requested authentication mechanism") }
            guard !authenticatedUser else { return failure("503 5.5.1 Already authenticated") }
            guard mailFrom == nil else { return failure("503 5.5.1 AUTH not allowed during a mail transaction") }
            switch mechanism {
            case "PLAIN":
                guard let initial else {
                    phase = .authPlainResponse
                    return [.reply("334 ")]
                }
                return plain(initial)
            case "LOGIN":
                guard let initial else {
                    phase = .authLoginUser
                    return [.reply("334 VXNlcm5hbWU6")]
                }
                return loginUser(initial)
            default: return failure("504 5.5.4 Unrecognized authentication type")
            }
        case .mail(let from, let parameters):
            guard helo != nil else { return failure("503 5.5.1 Send EHLO first") }
            guard authenticatedUser else { return failure("530 5.7.0 Authentication required") }
            guard mailFrom == nil else { return failure("503 5.5.1 Sender already given") }
            for (keyword, value) in parameters {
                switch keyword {
                case "SIZE":
                    guard let size = Int(value), size >= 0 else { return failure("501 5.5.4 Bad SIZE parameter") }
                    if size > configuration.maxMessageSize {
                        return [.reply("552 5.3.4 Message size exceeds fixed maximum message size")]
                    }
                case "BODY":
                    guard ["7BIT", "8BITMIME"].contains(value.uppercased()) else { return failure("501 5.5.4 Bad BODY parameter") }
                case "SMTPUTF8", "AUTH": break
                case "REQUIRETLS" where tls:
                    guard value.isEmpty else { return failure("501 5.5.4 REQUIRETLS takes no value") }
                default: return failure("555 5.5.4 Unsupported parameter \(keyword.prefix(32))")
                }
            }
            let address: String
            if from.isEmpty {
                address = ""
            } else {
                guard let normal = configuration.normalizeAddress(from) else { return failure("501 5.1.7 Bad sender address syntax") }
                if !normal.allSatisfy(\.isASCII) && parameters["SMTPUTF8"] == nil {
                    return failure("553 5.6.7 Non-ASCII address needs the SMTPUTF8 parameter")
                }
                address = normal
            }
            smtpUTF8 = parameters["SMTPUTF8"] != nil
            requireTLS = parameters["REQUIRETLS"] != nil
            phase = .authorizing(from: address)
            return [.authorize]
        case .rcpt(let to, let parameters):
            guard mailFrom != nil else { return failure("503 5.5.1 Need MAIL before RCPT") }
            guard parameters.isEmpty else { return failure("555 5.5.4 Unsupported parameter \(parameters.keys.sorted()[0].prefix(32))") }
            guard let address = configuration.normalizeAddress(to) else { return failure("501 5.1.3 Bad recipient address syntax") }
            guard recipients.count < configuration.maxRecipients else { return [.reply("452 4.5.3 Too many recipients")] }
            if !recipients.contains(where: { $0.lowercased() == address.lowercased() }) { recipients.append(address) }
            return [.reply("250 2.1.5 Ok")]
        case .data:
            guard mailFrom != nil else { return failure("503 5.5.1 Need MAIL before DATA") }
            guard !recipients.isEmpty else { return failure("554 5.5.1 No valid recipients") }
            phase = .data
            return [.reply("354 End data with <CR><LF>.<CR><LF>"), .receiveMessage]
        case .rset:
            resetTransaction()
            return [.reply("250 2.0.0 Ok")]
        case .noop: return [.reply("250 2.0.0 Ok")]
        case .vrfy: return [.reply("252 2.5.2 Cannot VRFY user")]
        case .help: return [.reply("214 2.0.0 Sealpost submission: RFC 6409; see RFC 5321")]
        case .quit:
            return close("221 2.0.0 Bye")
        case .unknown: return failure("500 5.5.1 Command unrecognized")
        case .syntaxError(let why): return failure("501 5.5.4 Syntax error: \(why)")
        }
    }

    private mutating func saslResponse(_ frame: SMTPServerFramer.Frame) -> [Action] {
        let current = phase
        phase = .ready
        guard case .line(let bytes) = frame else { return failure("500 5.5.2 Line too long") }
        let line = String(decoding: bytes, as: UTF8.self)
        if line == "*" { return failure("501 5.7.0 Authentication cancelled") }
        switch current {
        case .authPlainResponse: return plain(line)
        case .authLoginUser: return loginUser(line)
        default: return loginPassword(line)
        }
    }

    /// RFC 4616: `authzid NUL authcid NUL passwd`; SendGrid's user name is `apikey`.
    private mutating func plain(_ base64: String) -> [Action] {
        guard let decoded = Self.base64(base64) else { return failure("501 5.5.2 Cannot decode response") }
        let fields = decoded.split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
        guard fields.count == 3 else { return failure("501 5.5.2 Cannot decode response") }
        let authzid = String(decoding: fields[0], as: UTF8.self)
        let user = String(decoding: fields[1], as: UTF8.self)
        guard user == "apikey", authzid.isEmpty || authzid == user else {
            return failure("535 5.7.8 Authentication credentials invalid")
        }
        phase = .authenticating
        return [.authenticate(password: String(decoding: fields[2], as: UTF8.self))]
    }

    private var loginUserOK = false

    private mutating func loginUser(_ base64: String) -> [Action] {
        guard let decoded = Self.base64(base64) else { return failure("501 5.5.2 Cannot decode response") }
        // The password is asked for either way, so a wrong user name is not told apart.
        loginUserOK = String(decoding: decoded, as: UTF8.self) == "apikey"
        phase = .authLoginPassword
        return [.reply("334 UGFzc3dvcmQ6")]
    }

    private mutating func loginPassword(_ base64: String) -> [Action] {
        guard let decoded = Self.base64(base64) else { return failure("501 5.5.2 Cannot decode response") }
        guard loginUserOK else { return failure("535 5.7.8 Authentication credentials invalid") }
        phase = .authenticating
        return [.authenticate(password: String(decoding: decoded, as: UTF8.self))]
    }

    private mutating func resetTransaction() {
        mailFrom = nil
        recipients = []
        smtpUTF8 = false
        requireTLS = false
    }

    /// A reply to a bad command; after `maxErrors` of them the session ends.
    private mutating func failure(_ reply: String) -> [Action] {
        errors += 1
        if errors >= configuration.maxErrors {
            return [.reply(reply)] + close("421 4.7.0 \(configuration.hostname) Error: too many errors")
        }
        return [.reply(reply)]
    }

    private mutating func close(_ reply: String) -> [Action] {
        phase = .closed
        return [.reply(reply), .close]
    }

    static func multiline(_ code: Int, _ lines: [String]) -> String {
        lines.enumerated().map { i, l in "\(code)\(i == lines.count - 1 ? " " : "-")\(l)" }.joined(separator: "\r\n")
    }

    static func base64(_ s: String) -> [UInt8]? {
        guard !s.isEmpty, let data = Data(base64Encoded: s) else { return s == "=" ? [] : nil }
        return Array(data)
    }
}
