/// A TXT lookup through Sealpost's resolver, for `POST /v3/whitelabel/domains/{id}/validate`:
/// the API cannot import the delivery target that owns the resolver, so the executable hands
/// it this view of it.
public protocol TXTResolving: Sendable {
    /// The TXT strings at `name` (each record's strings concatenated); empty when the name or
    /// the type does not exist; `.failure` when the lookup itself failed (SERVFAIL, timeout).
    func txt(_ name: String) async -> Result<[String], TXTLookupError>
}

public struct TXTLookupError: Error, Sendable, Equatable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
}
