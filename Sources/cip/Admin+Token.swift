import ArgumentParser
import CIPAdministration
import CIPDomain
import CIPStore

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Create, list and revoke API, telephony and admin tokens.",
        subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token; the only time its text is shown.")
        @OptionGroup var database: DatabaseOption
        @Option(help: "network or advertiser.") var organizationType: String?
        @Option(help: "The organization's id.") var id: Int64?
        @Option(help: "read or write.") var scope: String = "write"
        @Flag(help: "A token for the telephony feed instead of an organization.") var telephony = false
        @Flag(help: "A token for the admin API (SPEC 6.1) instead of an organization.") var admin = false
        @Option(help: "What the token is for.") var description: String?

        func run() async throws {
            let kind: NewToken
            switch (telephony, admin) {
            case (true, true):
                throw CatalogError.invalidArgument("give at most one of --telephony and --admin")
            case (true, false), (false, true):
                guard organizationType == nil, id == nil else {
                    throw CatalogError.invalidArgument(
                        "--\(telephony ? "telephony" : "admin") takes no --organization-type or --id")
                }
                kind = telephony ? .telephony(description: description) : .admin(description: description)
            case (false, false):
                guard let organizationType, let id else {
                    throw CatalogError.invalidArgument("give --organization-type and --id, --telephony, or --admin")
                }
                let ref = OrganizationRef(
                    type: try AdminInput.organizationType(organizationType), id: try AdminInput.id(id, field: "id"))
                kind = .organization(ref, try AdminInput.scope(scope), description: description)
            }
            let (text, record) = try await database.administer { try await $0.createToken(kind) }
            printJSONLine { writer in
                writer.key("token")
                writer.string(text)
                if let organization = record.organization {
                    writer.key("organization_type")
                    writer.string(organization.type.rawValue)
                    writer.key("id")
                    writer.integer(organization.id)
                    writer.key("scope")
                    writer.string(record.scope.rawValue)
                } else {
                    writer.key("kind")
                    writer.string(record.kind.rawValue)
                }
                writer.key("token_id")
                writer.integer(record.id)
                writer.key("description")
                if let description = record.description { writer.string(description) } else { writer.null() }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens, never their text.")
        @OptionGroup var database: DatabaseOption

        func run() async throws {
            for token in try await database.administer({ try await $0.tokens() }) {
                printJSONLine { $0.writeFields(of: token) }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by its text or its id.")
        @OptionGroup var database: DatabaseOption
        @Option(help: "The token's text.") var token: String?
        @Option(help: "The token's id (from `token list`).") var id: Int64?

        func run() async throws {
            let revoked = try await database.administer { administration in
                switch (token, id) {
                case (let text?, nil): return try await administration.revokeToken(text: text)
                case (nil, let id?): return try await administration.revokeToken(id: id)
                default: throw CatalogError.invalidArgument("give exactly one of --token and --id")
                }
            }
            printJSONLine { writer in
                writer.key("id")
                writer.integer(revoked.id)
                writer.key("revoked")
                writer.bool(revoked.revoked)
            }
        }
    }
}
