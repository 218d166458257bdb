import Foundation
import SealpostCore

/// Intake's DKIM step, shared by `POST /v3/mail/send` and SMTP submission: the sender's
/// validated authenticated domains (its own, or its parent's for a subuser), and for each
/// message the one that signs it, by the domain of its `From`.
public struct IntakeSigning: Sendable {
    public let domains: [AuthenticatedDomain]

    public init(domains: [AuthenticatedDomain]) {
        self.domains = domains.filter(\.valid)
    }

    public static func load(for user: User, store: any DomainAuthenticationStore) async throws -> IntakeSigning {
        IntakeSigning(domains: try await store.authenticatedDomains(ownerID: AuthenticatedDomain.owner(of: user)))
    }

    /// The domain that signs mail from `address` (`local@domain`), if any.
    public func signer(forAddress address: String) -> AuthenticatedDomain? {
        guard let at = address.lastIndex(of: "@") else { return nil }
        return AuthenticatedDomain.signer(for: String(address[address.index(after: at)...]), among: domains)
    }

    /// `content` signed by the domain of `from`, or unchanged when no validated domain covers it.
    public func sign(_ content: [UInt8], from: String, now: Date) throws -> [UInt8] {
        guard let d = signer(forAddress: from) else { return content }
        return try DKIMSigner.sign(
            content, domain: d.domain, selector: d.selector, privateKey: d.privateKey, time: Int(now.timeIntervalSince1970))
    }

    /// SendGrid's refusal of a `From` without a verified sender identity
    /// (`--require-authenticated-domains`).
    public static let unverifiedFrom =
        "The from address does not match a verified Sender Identity. Mail cannot be sent until this error is resolved. Visit https://sendgrid.com/docs/for-developers/sending-email/sender-identity/ to see the Sender Identity requirements"

    /// The address in a `From` header value (`Name <a@b>` or `a@b`), for choosing the signer.
    public static func address(inFromHeader value: String) -> String {
        if let open = value.lastIndex(of: "<"), let close = value[open...].firstIndex(of: ">") {
            return String(value[value.index(after: open)..<close]).trimmingCharacters(in: .whitespaces)
        }
        return value.trimmingCharacters(in: .whitespaces)
    }
}
