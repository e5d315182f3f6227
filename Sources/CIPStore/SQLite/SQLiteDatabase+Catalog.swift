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
            var catalog = Catalog()
            for row in try Row.fetchAll(db, sql: "SELECT id, name, country FROM networks") {
                let network = Network(
                    id: try row.requiredInteger("id"), name: try row.requiredText("name"),
                    country: try row.requiredText("country"))
                catalog.networks[network.id] = network
            }
            for row in try Row.fetchAll(db, sql: "SELECT id, network_id, name, id_from_network FROM advertisers") {
                let advertiser = Advertiser(
                    id: try row.requiredInteger("id"), networkID: try row.requiredInteger("network_id"),
                    name: try row.requiredText("name"), idFromNetwork: try row.text("id_from_network"))
                catalog.advertisers[advertiser.id] = advertiser
            }
            let fieldRows = try Row.fetchAll(
                db, sql: "SELECT network_id, name, data_type, allowed_values FROM custom_data_fields")
            for row in fieldRows {
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
