import ArgumentParser
import CIPDomain
import CIPStore
import Foundation

/// `cip admin`: creates the catalog and tokens; prints one JSON object per line (SPEC 6).
struct Admin: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Administer networks, advertisers, custom data fields and tokens.",
        subcommands: [
            NetworkCommand.self, AdvertiserCommand.self, FieldCommand.self, TokenCommand.self, CallsCommand.self,
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

/// Rejects names that are empty or too long to be useful.
func checkName(_ name: String, flag: String = "--name") throws -> String {
    let trimmed = name.trimmingCharacters(in: .whitespaces)
    guard !trimmed.isEmpty, trimmed.count <= 255 else {
        throw CatalogError.invalidArgument("\(flag) must be 1 to 255 characters")
    }
    guard StoredText.isSingleLine(trimmed) else { throw CatalogError.invalidArgument("\(flag) \(StoredText.message)") }
    return trimmed
}

func checkID(_ value: Int64, flag: String) throws -> Int64 {
    guard value > 0 else { throw CatalogError.invalidArgument("\(flag) must be a positive integer") }
    return value
}

struct NetworkCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "network", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a network.")
        @OptionGroup var database: DatabaseOption
        @Option(help: "Unique network name.") var name: String
        @Option(help: "ISO 3166 country whose national phone formats apply.") var country: String = "US"

        func run() async throws {
            let name = try checkName(name)
            guard let numbering = CountryNumbering.forCountry(country) else {
                let known = CountryNumbering.known.keys.sorted().joined(separator: ", ")
                throw CatalogError.invalidArgument("--country must be one of \(known)")
            }
            let network = try await database.withAdminStore { store in
                try await store.createNetwork(name: name, country: numbering.isoCode)
            }
            printJSONLine { writer in
                writer.key("id")
                writer.integer(network.id)
                writer.key("name")
                writer.string(network.name)
                writer.key("country")
                writer.string(network.country)
            }
        }
    }
}

struct AdvertiserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "advertiser", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an advertiser in a network.")
        @OptionGroup var database: DatabaseOption
        @Option(help: "The network's id.") var network: Int64
        @Option(help: "Advertiser name, unique within the network.") var name: String
        @Option(help: "The network's own id for this advertiser.") var idFromNetwork: String?

        func run() async throws {
            let networkID = try checkID(network, flag: "--network")
            let name = try checkName(name)
            let fromNetwork = try idFromNetwork.map { try checkName($0, flag: "--id-from-network") }
            let advertiser = try await database.withAdminStore { store in
                try await store.createAdvertiser(networkID: networkID, name: name, idFromNetwork: fromNetwork)
            }
            printJSONLine { writer in
                writer.key("id")
                writer.integer(advertiser.id)
                writer.key("network_id")
                writer.integer(advertiser.networkID)
                writer.key("name")
                writer.string(advertiser.name)
                writer.key("id_from_network")
                if let fromNetwork = advertiser.idFromNetwork { writer.string(fromNetwork) } else { writer.null() }
            }
        }
    }
}

struct FieldCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "field", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Define a custom data field for a network.")
        @OptionGroup var database: DatabaseOption
        @Option(help: "The network's id.") var network: Int64
        @Option(help: "Field name, unique within the network.") var name: String
        @Option(help: "signal, category, short-text or long-text.") var type: String
        @Option(help: "An allowed value of a category field; repeat for more.") var allowedValue: [String] = []

        func run() async throws {
            guard let dataType = CustomDataType(cliName: type) else {
                throw CatalogError.invalidArgument("--type must be signal, category, short-text or long-text")
            }
            if !allowedValue.isEmpty && dataType != .category {
                throw CatalogError.invalidArgument("--allowed-value is only for category fields")
            }
            if let tooLong = allowedValue.first(where: { $0.isEmpty || $0.count > 255 }) {
                throw CatalogError.invalidArgument("--allowed-value \"\(tooLong)\" must be 1 to 255 characters")
            }
            if allowedValue.contains(where: { !StoredText.isSingleLine($0) }) {
                throw CatalogError.invalidArgument("--allowed-value \(StoredText.message)")
            }
            let networkID = try checkID(network, flag: "--network")
            let name = try checkName(name)
            let field = try await database.withAdminStore { store in
                try await store.createField(
                    networkID: networkID, name: name, dataType: dataType, allowedValues: allowedValue)
            }
            printJSONLine { writer in
                writer.key("network_id")
                writer.integer(field.networkID)
                writer.key("name")
                writer.string(field.name)
                writer.key("data_type")
                writer.string(field.dataType.rawValue)
                writer.key("allowed_values")
                writer.value(.array(field.allowedValues.map(JSONValue.string)))
            }
        }
    }
}
