import ArgumentParser
import SealpostCore

/// `--require-tls`, `--require-valid-cert`, `--version`: proposed settings that replace the
/// current ones where given (as a PATCH would), shared by `check` and `impact`.
struct ProposedSettingsOptions: ParsableArguments {
    @Flag(help: "Evaluate with require_tls on.") var requireTls = false
    @Flag(help: "Evaluate with require_valid_cert on.") var requireValidCert = false
    @Option(help: "Evaluate with this minimum TLS version (1.1, 1.2 or 1.3).") var version: String?

    func applied(to current: EnforcedTLSSettings) throws -> EnforcedTLSSettings {
        var settings = current
        if requireTls { settings.requireTLS = true }
        if requireValidCert { settings.requireValidCert = true }
        if let version {
            guard let v = TLSVersion(rawValue: version) else { throw ValidationError("--version must be 1.1, 1.2 or 1.3") }
            settings.version = v
        }
        return settings
    }
}
