import ArgumentParser
import CIPAdministration
import CIPDomain
import CIPStore
import Foundation

/// `cip admin`: the catalog and tokens (SPEC 6); prints one JSON object per line. Every command calls
/// the same `Administration` operations the admin API does (SPEC 6.1).
struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Administer networks, advertisers, custom data fields and tokens.",
        subcommands: [
            NetworkCommand.self, AdvertiserCommand.self, FieldCommand.self, TokenCommand.self, CallsCommand.self,
            WebhookCommand.self,
        ])
}

/// Prints one JSON object on its own line.
func printJSONLine(_ write: (inout JSONWriter) -> Void) {
    var writer = JSONWriter()
    writer.beginObject()
    write(&writer)
    writer.endObject()
    print(writer.text)
}

extension DatabaseOption {
    /// Runs `body` with the administration of the configured database.
    func administer<T>(_ body: (Administration) async throws -> T) async throws -> T {
        try await withAdminStore { store in try await body(Administration(store: store)) }
    }
}

struct NetworkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "network", abstract: "Create and list networks.", subcommands: [Create.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a network.")
        @OptionGroup var database: DatabaseOption
        @Option(help: "Unique network name.") var name: String
        @Option(help: "ISO 3166 country whose national phone formats apply.") var country: String = "US"

        func run() async throws {
            let network = try await database.administer { try await $0.createNetwork(name: name, country: country) }
            printJSONLine { $0.writeFields(of: network) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List every network, one per line.")
        @OptionGroup var database: DatabaseOption

        func run() async throws {
            for network in try await database.administer({ try await $0.networks() }) {
                printJSONLine { $0.writeFields(of: network) }
            }
        }
    }
}

struct AdvertiserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "advertiser", abstract: "Create, list and update advertisers.",
        subcommands: [Create.self, List.self, Update.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an advertiser in a network.")
        @OptionGroup var database: DatabaseOption
        @Option(help: "The network's id.") var network: Int64
        @Option(help: "Advertiser name, unique within the network.") var name: String
        @Option(help: "The network's own id for this advertiser.") var idFromNetwork: String?

        func run() async throws {
            let advertiser = try await database.administer {
                try await $0.createAdvertiser(networkID: network, name: name, idFromNetwork: idFromNetwork)
            }
            printJSONLine { $0.writeFields(of: advertiser) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List advertisers, one per line.")
        @OptionGroup var database: DatabaseOption
        @Option(help: "Only this network's advertisers.") var network: Int64?

        func run() async throws {
            for advertiser in try await database.administer({ try await $0.advertisers(networkID: network) }) {
                printJSONLine { $0.writeFields(of: advertiser) }
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rename an advertiser or change its id from the network.")
        @OptionGroup var database: DatabaseOption
        @Option(help: "The advertiser's id.") var id: Int64
        @Option(help: "New name, unique within the network.") var name: String?
        @Option(help: "The network's own id for this advertiser.") var idFromNetwork: String?

        func run() async throws {
            let (before, advertiser) = try await database.administer {
                try await $0.updateAdvertiser(id: id, name: name, idFromNetwork: idFromNetwork)
            }
            try await database.carryRename(AdvertiserRename(before: before, after: advertiser))
            printJSONLine { $0.writeFields(of: advertiser) }
        }
    }
}

struct FieldCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "field", abstract: "Define, list and extend custom data fields.",
        subcommands: [Create.self, List.self, Update.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Define a custom data field for a network.")
        @OptionGroup var database: DatabaseOption
        @Option(help: "The network's id.") var network: Int64
        @Option(help: "Field name, unique within the network.") var name: String
        @Option(help: "signal, category, short-text or long-text.") var type: String
        @Option(help: "An allowed value of a category field; repeat for more.") var allowedValue: [String] = []

        func run() async throws {
            let field = try await database.administer {
                try await $0.createField(networkID: network, name: name, dataType: type, allowedValues: allowedValue)
            }
            printJSONLine { $0.writeFields(of: field) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List a network's fields, one per line.")
        @OptionGroup var database: DatabaseOption
        @Option(help: "The network's id.") var network: Int64

        func run() async throws {
            for field in try await database.administer({ try await $0.fields(networkID: network) }) {
                printJSONLine { $0.writeFields(of: field) }
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add allowed values to a category field (values are never removed).")
        @OptionGroup var database: DatabaseOption
        @Option(help: "The network's id.") var network: Int64
        @Option(help: "The field's name.") var name: String
        @Option(help: "A value to allow; repeat for more.") var addAllowedValue: [String] = []

        func run() async throws {
            let field = try await database.administer {
                try await $0.addAllowedValues(networkID: network, name: name, values: addAllowedValue)
            }
            printJSONLine { $0.writeFields(of: field) }
        }
    }
}
