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
            try CatalogColumns.catalog(
                networks: try await connection.rows(CatalogColumns.networks, [], self.logger),
                advertisers: try await connection.rows(CatalogColumns.advertisers, [], self.logger),
                fields: try await connection.rows(CatalogColumns.fields, [], self.logger))
        }
    }

    public func updateAdvertiser(
        id: Int64, name: String?, idFromNetwork: String?
    ) async throws -> (before: Advertiser, after: Advertiser) {
        try await transaction { connection, logger in
            guard
                let row = try await connection.rows(
                    CatalogColumns.advertisers + " WHERE id = $1 FOR UPDATE", [.integer(id)], logger
                ).first
            else { throw CatalogError.unknown("advertiser \(id)") }
            let before = try CatalogColumns.advertiser(row)
            let after = before.updated(name: name, idFromNetwork: idFromNetwork)
            do {
                try await connection.query(
                    "UPDATE advertisers SET name = \(after.name), id_from_network = \(after.idFromNetwork) WHERE id = \(id)",
                    logger: logger)
            } catch let error as PSQLError where error.sqlState == "23505" {
                throw CatalogError.duplicateName("advertiser \(after.name) in network \(after.networkID)")
            }
            return (before, after)
        }
    }

    public func addAllowedValues(networkID: Int64, name: String, values: [String]) async throws -> CustomDataField {
        try await transaction { connection, logger in
            try await Self.requireNetwork(connection, logger, networkID)
            guard
                let row = try await connection.rows(
                    CatalogColumns.fields + " WHERE network_id = $1 AND name = $2 FOR UPDATE",
                    [.integer(networkID), .text(name)], logger
                ).first
            else { throw CatalogError.unknown("field \(name) in network \(networkID)") }
            let field = try CatalogColumns.field(row).addingAllowedValues(values)
            let allowed = StoredList.encode(field.allowedValues)
            try await connection.query(
                "UPDATE custom_data_fields SET allowed_values = \(allowed) WHERE network_id = \(networkID) AND name = \(name)",
                logger: logger)
            return field
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
