import ArgumentParser
import CIPAdministration
import CIPDomain
import CIPStore

/// `cip admin webhook` (SPEC 9).
struct WebhookCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "webhook", abstract: "Create, list, delete, disable and enable webhooks.",
        subcommands: [Create.self, List.self, Delete.self, Disable.self, Enable.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a webhook; the only time its secret is shown.")
        @OptionGroup var database: DatabaseOption
        @OptionGroup var options: WebhookOptions
        @Option(help: "network or advertiser.") var organizationType: String
        @Option(help: "The organization's id.") var id: Int64
        @Option(help: "The https:// URL changes are POSTed to.") var url: String
        @Option(help: "The change types to send, comma-separated (default: all three).") var event: String?

        func run() async throws {
            let organization = OrganizationRef(
                type: try AdminInput.organizationType(organizationType), id: try AdminInput.id(id, field: "id"))
            let policy = options.policy
            if case .failure(let refusal) = policy.check(url: url) {
                throw CatalogError.invalid(field: "url", message: refusal.description)
            }
            let key = try options.sealingKey(for: database, create: true)!
            let (webhook, secret) = try await database.withWebhookStore { catalog, webhooks in
                try await WebhookAdministration(catalog: catalog, webhooks: webhooks).create(
                    organization: organization, url: url, events: event, policy: policy, sealingKey: key,
                    now: .now())
            }
            printJSONLine { writer in
                writer.writeFields(of: webhook)
                writer.key("secret")
                writer.string(secret.text)
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List webhooks, never their secrets.")
        @OptionGroup var database: DatabaseOption

        func run() async throws {
            let listed = try await database.withWebhookStore { catalog, webhooks in
                try await WebhookAdministration(catalog: catalog, webhooks: webhooks).list()
            }
            for (webhook, pending) in listed {
                printJSONLine { $0.writeFields(of: webhook, pending: pending) }
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a webhook.")
        @OptionGroup var database: DatabaseOption
        @Option(help: "The webhook's id.") var id: Int64

        func run() async throws {
            try await change(database) { try await $0.delete(id: id) }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop delivering to a webhook.")
        @OptionGroup var database: DatabaseOption
        @Option(help: "The webhook's id.") var id: Int64

        func run() async throws {
            try await change(database) { try await $0.disable(id: id) }
        }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Deliver to a disabled webhook again, after the last change it was given if the log still holds it.")
        @OptionGroup var database: DatabaseOption
        @Option(help: "The webhook's id.") var id: Int64

        func run() async throws {
            try await change(database) { try await $0.enable(id: id) }
        }
    }

    private static func change(
        _ database: DatabaseOption, _ operation: (WebhookAdministration) async throws -> Webhook
    ) async throws {
        let webhook = try await database.withWebhookStore { catalog, webhooks in
            try await operation(WebhookAdministration(catalog: catalog, webhooks: webhooks))
        }
        printJSONLine { $0.writeFields(of: webhook) }
    }
}
