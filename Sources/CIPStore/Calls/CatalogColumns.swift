import CIPDomain

/// How networks, advertisers and custom data fields are stored, read by column name on both backends.
enum CatalogColumns {
    static let networks = "SELECT id, name, country FROM networks"
    static let advertisers = "SELECT id, network_id, name, id_from_network FROM advertisers"
    static let fields = "SELECT network_id, name, data_type, allowed_values FROM custom_data_fields"

    static func network(_ row: some StoredRow) throws -> Network {
        Network(
            id: try row.requiredInteger("id"), name: try row.requiredText("name"),
            country: try row.requiredText("country"))
    }

    static func advertiser(_ row: some StoredRow) throws -> Advertiser {
        Advertiser(
            id: try row.requiredInteger("id"), networkID: try row.requiredInteger("network_id"),
            name: try row.requiredText("name"), idFromNetwork: try row.text("id_from_network"))
    }

    static func field(_ row: some StoredRow) throws -> CustomDataField {
        let typeText = try row.requiredText("data_type")
        guard let dataType = CustomDataType(rawValue: typeText) else {
            throw StoredRowError.invalid("data_type", typeText)
        }
        return CustomDataField(
            networkID: try row.requiredInteger("network_id"), name: try row.requiredText("name"), dataType: dataType,
            allowedValues: StoredList.decode(try row.requiredText("allowed_values")))
    }

    /// The catalog of the rows each of the three selects returned.
    static func catalog(
        networks: [some StoredRow], advertisers: [some StoredRow], fields: [some StoredRow]
    ) throws -> Catalog {
        var catalog = Catalog()
        for row in networks {
            let network = try network(row)
            catalog.networks[network.id] = network
        }
        for row in advertisers {
            let advertiser = try advertiser(row)
            catalog.advertisers[advertiser.id] = advertiser
        }
        for row in fields {
            let field = try field(row)
            catalog.fields[field.networkID, default: [:]][field.name] = field
        }
        return catalog
    }
}
