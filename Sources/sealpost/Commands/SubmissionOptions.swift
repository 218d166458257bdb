import ArgumentParser
import Foundation
import NIOCore
import SealpostCore
import SealpostSMTP

/// `serve`'s SMTP submission options: the two doors (RFC 6409 STARTTLS, RFC 8314 implicit
/// TLS), both off by default, and their certificate, which defaults to the API's.
struct SubmissionOptions: ParsableArguments {
    @Option(help: "Listen for SMTP submission with STARTTLS on HOST:PORT (env SEALPOST_SUBMISSION; default off).")
    var submission: String?
    @Option(help: "Listen for SMTP submission over implicit TLS on HOST:PORT (env SEALPOST_SUBMISSIONS; default off).")
    var submissions: String?
    @Option(help: "PEM certificate chain for SMTP submission (env SEALPOST_SMTP_TLS_CERT; default --tls-cert).")
    var smtpTLSCert: String?
    @Option(help: "PEM private key of --smtp-tls-cert (env SEALPOST_SMTP_TLS_KEY; default --tls-key).")
    var smtpTLSKey: String?
    @Option(help: "SMTP submission connections at once; one more gets 421 (env SEALPOST_SUBMISSION_MAX_CONNECTIONS; default 256).")
    var submissionMaxConnections: Int?
    @Option(help: "Idle limit in seconds of a submission session (env SEALPOST_SUBMISSION_TIMEOUT; default RFC 5321's 300, 600 in DATA).")
    var submissionTimeout: Double?

    /// nil when neither listener is configured.
    func configuration(helo: String, apiCertificate: String?, apiKey: String?) throws -> SubmissionServerConfiguration? {
        var listeners: [SubmissionListener] = []
        for (flag, env, value, security) in [
            ("--submission", "SEALPOST_SUBMISSION", submission, SubmissionListener.Security.startTLS),
            ("--submissions", "SEALPOST_SUBMISSIONS", submissions, .implicitTLS),
        ] {
            let text = Environment.value(flag: value, env: env, default: "")
            if text.isEmpty { continue }
            let (host, port) = try ServeCommand.parseListen(text, flag: flag)
            listeners.append(SubmissionListener(host: host, port: port, security: security))
        }
        if listeners.isEmpty { return nil }
        let cert = Environment.value(flag: smtpTLSCert, env: "SEALPOST_SMTP_TLS_CERT", default: apiCertificate ?? "")
        let key = Environment.value(flag: smtpTLSKey, env: "SEALPOST_SMTP_TLS_KEY", default: apiKey ?? "")
        guard cert.isEmpty == key.isEmpty else { throw ValidationError("--smtp-tls-cert and --smtp-tls-key go together") }
        var configuration = SubmissionServerConfiguration(
            hostname: helo, listeners: listeners, certificatePath: cert.isEmpty ? nil : cert, keyPath: key.isEmpty ? nil : key,
            normalizeAddress: { address in
                MailRequestValidator.isValidAddress(address) ? MailRequestValidator.envelopeForm(address) : nil
            })
        let capText = Environment.value(
            flag: submissionMaxConnections.map(String.init), env: "SEALPOST_SUBMISSION_MAX_CONNECTIONS", default: "256")
        guard let cap = Int(capText), cap > 0 else { throw ValidationError("submission max connections must be positive, got \(capText)") }
        configuration.maxConnections = cap
        let timeoutText = Environment.value(flag: submissionTimeout.map { String($0) }, env: "SEALPOST_SUBMISSION_TIMEOUT", default: "")
        if !timeoutText.isEmpty {
            guard let t = Double(timeoutText), t > 0 else {
                throw ValidationError("submission timeout must be a positive number of seconds")
            }
            configuration.timeouts.command = .milliseconds(Int64(t * 1000))
            configuration.timeouts.data = .milliseconds(Int64(t * 1000))
        }
        do {
            _ = try configuration.tlsContext()
        } catch let error as SubmissionServerConfiguration.ConfigurationError {
            throw ValidationError(error.description)
        } catch {
            throw ValidationError("cannot set up TLS for SMTP submission with \(cert) and \(key): \(error)")
        }
        return configuration
    }
}
