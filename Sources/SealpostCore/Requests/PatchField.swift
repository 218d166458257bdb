/// One field of a partial-update body: absent, a value, or present with the wrong type.
///
/// Decoding straight into this (instead of a generic JSON tree) costs one decode attempt per
/// field on the hot PATCH path and still names the bad field precisely.
public enum PatchField<Value: Sendable>: Sendable {
    case absent
    case value(Value)
    case invalid(typeName: String)
}

/// The body of `PATCH /v3/user/settings/enforced_tls`.
public struct EnforcedTLSPatchBody: Decodable {
    var requireTLS: PatchField<Bool> = .absent
    var requireValidCert: PatchField<Bool> = .absent
    /// The raw number or string; checked against the allowed versions by the route.
    var version: PatchField<VersionInput> = .absent

    enum VersionInput: Sendable {
        case number(Double)
        case text(String)
    }

    public init() {}

    enum CodingKeys: String, CodingKey {
        case requireTLS = "require_tls"
        case requireValidCert = "require_valid_cert"
        case version
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        requireTLS = Self.bool(c, .requireTLS)
        requireValidCert = Self.bool(c, .requireValidCert)
        if c.contains(.version) {
            if let n = try? c.decode(Double.self, forKey: .version) {
                version = .value(.number(n))
            } else if let s = try? c.decode(String.self, forKey: .version) {
                version = .value(.text(s))
            } else {
                version = .invalid(typeName: Self.typeName(c, .version))
            }
        }
    }

    private static func bool(_ c: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) -> PatchField<Bool> {
        guard c.contains(key) else { return .absent }
        if let b = try? c.decode(Bool.self, forKey: key) { return .value(b) }
        return .invalid(typeName: typeName(c, key))
    }

    /// Only on the error path: what was sent instead.
    private static func typeName(_ c: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) -> String {
        (try? c.decode(JSONValue.self, forKey: key))?.typeName ?? "invalid"
    }
}

extension EnforcedTLSPatchBody {
    /// Validates a PATCH body field by field. All problems are reported at once, each naming
    /// its field; unknown fields are ignored (forward compatibility, as SendGrid does).
    public func validated() throws(ValidationFailure) -> EnforcedTLSPatch {
        var patch = EnforcedTLSPatch()
        var errors: [FieldError] = []
        func flag(_ field: PatchField<Bool>, _ name: String) -> Bool? {
            switch field {
            case .absent: return nil
            case .value(let b): return b
            case .invalid(let type):
                errors.append(.init(field: name, message: "\(name) must be a boolean (true or false), not \(type)"))
                return nil
            }
        }
        patch.requireTLS = flag(requireTLS, "require_tls")
        patch.requireValidCert = flag(requireValidCert, "require_valid_cert")
        switch version {
        case .absent: break
        case .value(let input):
            let version: TLSVersion? =
                switch input {
                case .number(let n): TLSVersion(number: n)
                case .text(let s): TLSVersion(text: s)
                }
            if let version {
                patch.version = version
            } else {
                errors.append(.init(field: "version", message: "version must be one of 1.1, 1.2 or 1.3"))
            }
        case .invalid:
            errors.append(.init(field: "version", message: "version must be one of 1.1, 1.2 or 1.3"))
        }
        if !errors.isEmpty { throw ValidationFailure(errors) }
        return patch
    }
}
