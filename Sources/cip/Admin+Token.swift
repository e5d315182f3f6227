import ArgumentParser
import CIPDomain
import CIPStore

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a token; the only time its text is shown.")
        @OptionGroup var database: DatabaseOption
        @Option(help: "network or advertiser.") var organizationType: String?
        @Option(help: "The organization's id.") var id: Int64?
        @Option(help: "read or write.") var scope: String = "write"
        @Flag(help: "A token for the telephony feed instead of an organization.") var telephony = false
        @Option(help: "What the token is for.") var description: String?

        func run() async throws {
            guard let tokenScope = TokenScope(rawValue: scope.lowercased()) else {
                throw CatalogError.invalidArgument("--scope must be read or write")
            }
            var organization: OrganizationRef?
            if telephony {
                guard organizationType == nil, id == nil else {
                    throw CatalogError.invalidArgument("--telephony takes no --organization-type or --id")
                }
            } else {
                guard let organizationType, let id else {
                    throw CatalogError.invalidArgument("give --organization-type and --id, or --telephony")
                }
                guard let type = OrganizationType(parsing: organizationType) else {
                    throw CatalogError.invalidArgument("--organization-type must be network or advertiser")
                }
                organization = OrganizationRef(type: type, id: try checkID(id, flag: "--id"))
            }
            if let description, !StoredText.isSingleLine(description) {
                throw CatalogError.invalidArgument("--description \(StoredText.message)")
            }
            let text = TokenGenerator.newToken()
            let owner = organization
            let record = try await database.withAdminStore { store in
                try await store.createToken(
                    hash: TokenHash(of: text), kind: telephony ? .telephony : .organization, organization: owner,
                    scope: tokenScope, description: description, createdAt: .now())
            }
            printJSONLine { writer in
                writer.key("token")
                writer.string(text)
                if let organization {
                    writer.key("organization_type")
                    writer.string(organization.type.rawValue)
                    writer.key("id")
                    writer.integer(organization.id)
                    writer.key("scope")
                    writer.string(record.scope.rawValue)
                } else {
                    writer.key("kind")
                    writer.string(TokenKind.telephony.rawValue)
                }
                writer.key("token_id")
                writer.integer(record.id)
                writer.key("description")
                if let description { writer.string(description) } else { writer.null() }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tokens, never their text.")
        @OptionGroup var database: DatabaseOption

        func run() async throws {
            for token in try await database.withAdminStore({ try await $0.listTokens() }) {
                printJSONLine { writer in writer.writeTokenSummary(token) }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a token by its text or its id.")
        @OptionGroup var database: DatabaseOption
        @Option(help: "The token's text.") var token: String?
        @Option(help: "The token's id (from `token list`).") var id: Int64?

        func run() async throws {
            let revoked = try await database.withAdminStore { store in
                let tokenID: Int64
                switch (token, id) {
                case (let text?, nil):
                    guard let record = try await store.token(hash: TokenHash(of: text)) else {
                        throw CatalogError.unknown("token")
                    }
                    tokenID = record.id
                case (nil, let id?):
                    tokenID = try checkID(id, flag: "--id")
                default:
                    throw CatalogError.invalidArgument("give exactly one of --token and --id")
                }
                guard let revoked = try await store.revokeToken(id: tokenID) else {
                    throw CatalogError.unknown("token \(tokenID)")
                }
                return revoked
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

extension JSONWriter {
    /// A token as `token list` shows it: everything but its text.
    mutating func writeTokenSummary(_ token: TokenRecord) {
        key("id")
        integer(token.id)
        key("kind")
        string(token.kind.rawValue)
        key("organization_type")
        if let organization = token.organization { string(organization.type.rawValue) } else { null() }
        key("organization_id")
        if let organization = token.organization { integer(organization.id) } else { null() }
        key("scope")
        string(token.scope.rawValue)
        key("description")
        if let description = token.description { string(description) } else { null() }
        key("created_at")
        string(token.createdAt.description)
        key("revoked")
        bool(token.revoked)
    }
}
