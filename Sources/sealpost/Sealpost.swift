import ArgumentParser
import SealpostCore

@main
struct Sealpost: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sealpost",
        abstract: "Self-hosted outbound mail relay with SendGrid-compatible Enforced TLS.",
        subcommands: [
            ServeCommand.self, CheckCommand.self, ImpactCommand.self, AccountsCommand.self, SubusersCommand.self, CustomersCommand.self,
            KeysCommand.self, DomainsCommand.self, AuditCommand.self, EventsCommand.self, MigrateCommand.self, TLSRPTCommand.self,
        ]
    )
}
