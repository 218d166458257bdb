/// One problem with a request, in SendGrid's error item shape (`{"field":…,"message":…}`).
///
/// Free of HTTP types on purpose: the body validators throw `ValidationFailure` built from
/// these, so they compile on their own into the libFuzzer harnesses under `Fuzz/`.
public struct FieldError: Equatable, Encodable, Sendable {
    public var field: String?
    public var message: String

    public init(field: String?, message: String) {
        self.field = field
        self.message = message
    }

    // Explicit so that `field` is written as `null` rather than left out, as SendGrid does.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(field, forKey: .field)
        try c.encode(message, forKey: .message)
    }

    enum CodingKeys: String, CodingKey { case field, message }
}

/// Every problem a validator found in one body; answered as one 400 (`APIError.from`).
public struct ValidationFailure: Error, Equatable, Sendable {
    public var errors: [FieldError]

    public init(_ errors: [FieldError]) {
        self.errors = errors
    }
}
