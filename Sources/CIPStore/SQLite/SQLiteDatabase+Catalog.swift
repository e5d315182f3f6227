import CIPDomain
import GRDB

extension SQLiteDatabase: CatalogStore {
    public func createNetwork(name: String, country: String) async throws -> Network {
        try await write { db in
            try Self.insert(db, what: "network \(name)") {
                try db.execute(sql: "INSERT INTO networks (name, country) VALUES (?, ?)", arguments: [name, country])
            }
            return Network(id: db.lastInsertedRowID, name: name, country: country)
        }
    }

    public func createAdvertiser(networkID: Int64, name: String, idFromNetwork: String?) async throws -> Advertiser {
        try await write { db in
            try Self.requireNetwork(db, networkID)
            try Self.insert(db, what: "advertiser \(name) in network \(networkID)") {
                try db.execute(
                    sql: "INSERT INTO advertisers (network_id, name, id_from_network) VALUES (?, ?, ?)",
                    arguments: [networkID, name, idFromNetwork])
            }
            return Advertiser(id: db.lastInsertedRowID, networkID: networkID, name: name, idFromNetwork: idFromNetwork)
        }
    }

    public func createField(
        networkID: Int64, name: String, dataType: CustomDataType, allowedValues: [String]
    ) async throws -> CustomDataField {
        try await write { db in
            try Self.requireNetwork(db, networkID)
            try Self.insert(db, what: "field \(name) in network \(networkID)") {
                try db.execute(
                    sql: """
                        INSERT INTO custom_data_fields (network_id, name, data_type, allowed_values)
                        VALUES (?, ?, ?, ?)
                        """,
                    arguments: [networkID, name, dataType.rawValue, StoredList.encode(allowedValues)])
            }
            return CustomDataField(networkID: networkID, name: name, dataType: dataType, allowedValues: allowedValues)
        }
    }

    public func loadCatalog() async throws -> Catalog {
        try await read { db in
            try CatalogColumns.catalog(
                networks: Row.fetchAll(db, sql: CatalogColumns.networks),
                advertisers: Row.fetchAll(db, sql: CatalogColumns.advertisers),
                fields: Row.fetchAll(db, sql: CatalogColumns.fields))
        }
    }

    public func updateAdvertiser(
        id: Int64, name: String?, idFromNetwork: String?
    ) async throws -> (before: Advertiser, after: Advertiser) {
        try await write { db in
            guard let row = try Row.fetchOne(db, sql: CatalogColumns.advertisers + " WHERE id = ?", arguments: [id])
            else { throw CatalogError.unknown("advertiser \(id)") }
            let before = try CatalogColumns.advertiser(row)
            let after = before.updated(name: name, idFromNetwork: idFromNetwork)
            try Self.insert(db, what: "advertiser \(after.name) in network \(after.networkID)") {
                try db.execute(
                    sql: "UPDATE advertisers SET name = ?, id_from_network = ? WHERE id = ?",
                    arguments: [after.name, after.idFromNetwork, id])
            }
            return (before, after)
        }
    }

    public func addAllowedValues(networkID: Int64, name: String, values: [String]) async throws -> CustomDataField {
        try await write { db in
            try Self.requireNetwork(db, networkID)
            guard
                let row = try Row.fetchOne(
                    db, sql: CatalogColumns.fields + " WHERE network_id = ? AND name = ?", arguments: [networkID, name])
            else { throw CatalogError.unknown("field \(name) in network \(networkID)") }
            let field = try CatalogColumns.field(row).addingAllowedValues(values)
            try db.execute(
                sql: "UPDATE custom_data_fields SET allowed_values = ? WHERE network_id = ? AND name = ?",
                arguments: [StoredList.encode(field.allowedValues), networkID, name])
            return field
        }
    }

    static func requireNetwork(_ db: Database, _ id: Int64) throws {
        guard try Bool.fetchOne(db, sql: "SELECT 1 FROM networks WHERE id = ?", arguments: [id]) == true else {
            throw CatalogError.unknown("network \(id)")
        }
    }

    static func insert(_ db: Database, what: String, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as DatabaseError
            where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE
            || error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY
        {
            throw CatalogError.duplicateName(what)
        }
    }
}
