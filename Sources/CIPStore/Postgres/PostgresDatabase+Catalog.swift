import CIPDomain
import Logging
import PostgresNIO

extension PostgresDatabase: CatalogStore {
    public func createNetwork(name: String, country: String) async throws -> Network {
        try await transaction { connection, logger in
            let id = try await Self.insertReturningID(
                connection, logger, what: "network \(name)",
                "INSERT INTO networks (name, country) VALUES (\(name), \(country)) RETURNING id")
            return Network(id: id, name: name, country: country)
        }
    }

    public func createAdvertiser(networkID: Int64, name: String, idFromNetwork: String?) async throws -> Advertiser {
        try await transaction { connection, logger in
            try await Self.requireNetwork(connection, logger, networkID)
            let id = try await Self.insertReturningID(
                connection, logger, what: "advertiser \(name) in network \(networkID)",
                """
                INSERT INTO advertisers (network_id, name, id_from_network) VALUES (\(networkID), \(name), \(idFromNetwork))
                RETURNING id
                """)
            return Advertiser(id: id, networkID: networkID, name: name, idFromNetwork: idFromNetwork)
        }
    }

    public func createField(
        networkID: Int64, name: String, dataType: CustomDataType, allowedValues: [String]
    ) async throws -> CustomDataField {
        try await transaction { connection, logger in
            try await Self.requireNetwork(connection, logger, networkID)
            let allowed = StoredList.encode(allowedValues)
            _ = try await Self.insertReturningID(
                connection, logger, what: "field \(name) in network \(networkID)",
                """
                INSERT INTO custom_data_fields (network_id, name, data_type, allowed_values)
                VALUES (\(networkID), \(name), \(dataType.rawValue), \(allowed)) RETURNING network_id
                """)
            return CustomDataField(networkID: networkID, name: name, dataType: dataType, allowedValues: allowedValues)
        }
    }

    public func loadCatalog() async throws -> Catalog {
        try await guarded { connection, _ in
            var catalog = Catalog()
            for row in try await connection.rows("SELECT id, name, country FROM networks", [], self.logger) {
                let network = Network(
                    id: try row.requiredInteger("id"), name: try row.requiredText("name"),
                    country: try row.requiredText("country"))
                catalog.networks[network.id] = network
            }
            for row in try await connection.rows(
                "SELECT id, network_id, name, id_from_network FROM advertisers", [], self.logger)
            {
                let advertiser = Advertiser(
                    id: try row.requiredInteger("id"), networkID: try row.requiredInteger("network_id"),
                    name: try row.requiredText("name"), idFromNetwork: try row.text("id_from_network"))
                catalog.advertisers[advertiser.id] = advertiser
            }
            for row in try await connection.rows(
                "SELECT network_id, name, data_type, allowed_values FROM custom_data_fields", [], self.logger)
            {
                let typeText = try row.requiredText("data_type")
                guard let dataType = CustomDataType(rawValue: typeText) else {
                    throw StoredRowError.invalid("data_type", typeText)
                }
                let field = CustomDataField(
                    networkID: try row.requiredInteger("network_id"), name: try row.requiredText("name"),
                    dataType: dataType, allowedValues: StoredList.decode(try row.requiredText("allowed_values")))
                catalog.fields[field.networkID, default: [:]][field.name] = field
            }
            return catalog
        }
    }

    static func requireNetwork(_ connection: PostgresConnection, _ logger: Logger, _ id: Int64) async throws {
        guard try await connection.query("SELECT 1 FROM networks WHERE id = \(id)", logger: logger).collect().count == 1
        else { throw CatalogError.unknown("network \(id)") }
    }

    static func insertReturningID(
        _ connection: PostgresConnection, _ logger: Logger, what: String, _ query: PostgresQuery
    ) async throws -> Int64 {
        do {
            for try await id in try await connection.query(query, logger: logger).decode(Int64.self) { return id }
            throw StoreFailure(CatalogError.invalidArgument("insert returned no id"))
        } catch let error as PSQLError where error.sqlState == "23505" {
            throw CatalogError.duplicateName(what)
        }
    }
}
