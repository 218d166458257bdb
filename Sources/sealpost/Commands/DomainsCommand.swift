import ArgumentParser
import SealpostCore
import SealpostStorage

/// `sealpost domains`: DKIM sending domains from the command line, as `/v3/whitelabel/domains`.
/// Validation (which needs the serving resolver) is the API's `POST …/{id}/validate`.
struct DomainsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "domains", abstract: "Manage authenticated (DKIM) sending domains.",
        subcommands: [Create.self, List.self, Rotate.self, Delete.self])

    /// One line per domain: id, domain, owner, selector, validity, and the record to publish.
    static func describe(_ d: AuthenticatedDomain, owner: String) -> String {
        "\(d.id)\t\(d.domain)\towner=\(owner)\tselector=\(d.selector)\tvalid=\(d.valid)\(d.isDefault ? "\tdefault" : "")\n"
            + "\tTXT \(d.dkimHost) \"\(DKIMSigner.dnsRecord(publicKey: d.publicKey))\""
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Authenticate a domain for a tenant: makes its RSA-2048 key and prints the TXT record to publish.")
        @OptionGroup var db: DatabaseOption
        @Option(help: "The account or customer account that owns it (a subuser's domain belongs to its parent).") var user: String
        @Option(help: "DKIM selector (default s1).") var selector: String?
        @Option(help: "Subdomain label(s), kept as SendGrid does.") var subdomain: String?
        @Flag(help: "Make it the tenant's default domain.") var `default` = false
        @Argument(help: "The domain, e.g. example.com.") var domain: String

        func run() async throws {
            var body: [String: Any] = ["domain": domain, "default": `default`]
            if let selector { body["custom_dkim_selector"] = selector }
            if let subdomain { body["subdomain"] = subdomain }
            let validated: AuthenticateDomainBody.Validated
            do {
                validated = try AuthenticateDomainBody.decoded(from: body).validated()
            } catch let failure as ValidationFailure {
                throw ValidationError(failure.errors.map { "\($0.field ?? "-"): \($0.message)" }.joined(separator: "; "))
            }
            let store = try await db.open()
            guard let named = try await store.user(named: user) else { throw ValidationError("no user named \(user)") }
            let ownerID = AuthenticatedDomain.owner(of: named)
            let owner = ownerID == named.id ? named : try await store.user(id: ownerID) ?? named
            let key = try DKIMSigner.newKey()
            let created = try await creating {
                try await store.createAuthenticatedDomain(
                    AuthenticatedDomain(
                        ownerID: owner.id, domain: validated.domain, subdomain: validated.subdomain, selector: validated.selector,
                        privateKey: key.privateKey, publicKey: key.publicKey, isDefault: validated.isDefault, valid: false))
            }
            print(DomainsCommand.describe(created, owner: owner.name))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List authenticated domains (all, or one tenant's).")
        @OptionGroup var db: DatabaseOption
        @Option(help: "Only this user's (a subuser: its parent's).") var user: String?

        func run() async throws {
            let store = try await db.open()
            var ownerID: Int64?
            if let user {
                guard let named = try await store.user(named: user) else { throw ValidationError("no user named \(user)") }
                ownerID = AuthenticatedDomain.owner(of: named)
            }
            for d in try await store.authenticatedDomains(ownerID: ownerID) {
                print(DomainsCommand.describe(d, owner: try await store.user(id: d.ownerID)?.name ?? "?"))
            }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Give a domain a new key (optionally a new selector). Signing stops until the new record is published and validated.")
        @OptionGroup var db: DatabaseOption
        @Option(help: "The new DKIM selector (default: keep it).") var selector: String?
        @Argument(help: "The domain's id.") var id: Int64

        func run() async throws {
            if let selector, selector.isEmpty || !DomainTLSEntry.isHostLabel(Substring(selector)) {
                throw ValidationError("--selector must be one DNS label (letters, digits, hyphens)")
            }
            let store = try await db.open()
            guard var d = try await store.authenticatedDomain(id: id, ownerID: nil) else {
                throw ValidationError("no domain with id \(id)")
            }
            let key = try DKIMSigner.newKey()
            d.privateKey = key.privateKey
            d.publicKey = key.publicKey
            d.selector = selector?.lowercased() ?? d.selector
            d.valid = false
            guard try await store.updateAuthenticatedDomain(d) else { throw ValidationError("no domain with id \(id)") }
            print(DomainsCommand.describe(d, owner: try await store.user(id: d.ownerID)?.name ?? "?"))
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete an authenticated domain; its mail is no longer signed.")
        @OptionGroup var db: DatabaseOption
        @Argument(help: "The domain's id.") var id: Int64

        func run() async throws {
            let store = try await db.open()
            guard try await store.deleteAuthenticatedDomain(id: id, ownerID: nil) else {
                printError("no domain with id \(id)")
                throw ExitCode(1)
            }
            print("deleted \(id)")
        }
    }
}
