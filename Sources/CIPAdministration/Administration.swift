import CIPDomain
import CIPStore

/// The operations of SPEC 6 and 6.1, once: `cip admin` and the admin API both call these, so a rule
/// (what a name may be, which values a field may gain, what a token may be made for) holds the same
/// way in both. Inputs are checked here and named by their API field (`CatalogError.invalid`); the
/// CLI names its flags instead.
public struct Administration: Sendable {
    public let store: any AdminStore

    public init(store: any AdminStore) {
        self.store = store
    }

    // MARK: Networks

    public func createNetwork(name: String, country: String?) async throws -> Network {
        let name = try AdminInput.name(name, field: "name")
        let country = try AdminInput.country(country ?? "US")
        return try await store.createNetwork(name: name, country: country)
    }

    /// Every network, by id.
    public func networks() async throws -> [Network] {
        try await store.loadCatalog().networks.values.sorted { $0.id < $1.id }
    }

    // MARK: Advertisers

    public func createAdvertiser(networkID: Int64, name: String, idFromNetwork: String?) async throws -> Advertiser {
        let networkID = try AdminInput.id(networkID, field: "network_id")
        let name = try AdminInput.name(name, field: "name")
        let fromNetwork = try idFromNetwork.map { try AdminInput.name($0, field: "id_from_network") }
        return try await store.createAdvertiser(networkID: networkID, name: name, idFromNetwork: fromNetwork)
    }

    /// The advertisers of one network (or of all, for nil), by id.
    public func advertisers(networkID: Int64?) async throws -> [Advertiser] {
        let catalog = try await store.loadCatalog()
        if let networkID, catalog.networks[networkID] == nil { throw CatalogError.unknown("network \(networkID)") }
        return catalog.advertisers.values.filter { networkID == nil || $0.networkID == networkID }.sorted {
            $0.id < $1.id
        }
    }

    /// Renames an advertiser and/or changes its id from the network; at least one must be given.
    public func updateAdvertiser(
        id: Int64, name: String?, idFromNetwork: String?
    ) async throws -> (before: Advertiser, after: Advertiser) {
        let id = try AdminInput.id(id, field: "id")
        guard name != nil || idFromNetwork != nil else {
            throw CatalogError.invalid(field: "name", message: "must be given when id_from_network is not")
        }
        let name = try name.map { try AdminInput.name($0, field: "name") }
        let fromNetwork = try idFromNetwork.map { try AdminInput.name($0, field: "id_from_network") }
        return try await store.updateAdvertiser(id: id, name: name, idFromNetwork: fromNetwork)
    }

    // MARK: Custom data fields

    public func createField(
        networkID: Int64, name: String, dataType: String, allowedValues: [String]
    ) async throws -> CustomDataField {
        let networkID = try AdminInput.id(networkID, field: "network_id")
        guard let type = CustomDataType(anyName: dataType) else {
            throw CatalogError.invalid(
                field: "data_type", message: "must be Signal, Category, Short Text or Long Text")
        }
        if !allowedValues.isEmpty && type != .category {
            throw CatalogError.invalid(field: "allowed_values", message: "are only for category fields")
        }
        let values = try AdminInput.allowedValues(allowedValues, field: "allowed_values")
        let name = try AdminInput.name(name, field: "name")
        return try await store.createField(networkID: networkID, name: name, dataType: type, allowedValues: values)
    }

    /// The fields of a network, by name.
    public func fields(networkID: Int64) async throws -> [CustomDataField] {
        let catalog = try await store.loadCatalog()
        guard catalog.networks[networkID] != nil else { throw CatalogError.unknown("network \(networkID)") }
        return (catalog.fields[networkID] ?? [:]).values.sorted { $0.name < $1.name }
    }

    /// Adds allowed values to a category field (never removes one: stored values stay valid).
    public func addAllowedValues(networkID: Int64, name: String, values: [String]) async throws -> CustomDataField {
        let networkID = try AdminInput.id(networkID, field: "network_id")
        guard !values.isEmpty else { throw CatalogError.invalid(field: "add_allowed_values", message: "is required") }
        let values = try AdminInput.allowedValues(values, field: "add_allowed_values")
        return try await store.addAllowedValues(networkID: networkID, name: name, values: values)
    }

    // MARK: Tokens

    /// Makes a token: its text, shown once, and its record (the store keeps only the hash). An
    /// organization token needs an organization that exists.
    public func createToken(_ kind: NewToken) async throws -> (text: String, record: TokenRecord) {
        let text = TokenGenerator.newToken()
        let record: TokenRecord
        switch kind {
        case .organization(let ref, let scope, let description):
            let description = try AdminInput.description(description)
            let catalog = try await store.loadCatalog()
            guard catalog.resolve(ref) != nil else { throw CatalogError.unknown("\(ref.type.rawValue) \(ref.id)") }
            record = try await store.createToken(
                hash: TokenHash(of: text), kind: .organization, organization: ref, scope: scope,
                description: description, createdAt: .now())
        case .telephony(let description), .admin(let description):
            let description = try AdminInput.description(description)
            record = try await store.createToken(
                hash: TokenHash(of: text), kind: kind.kind, organization: nil, scope: .write,
                description: description, createdAt: .now())
        }
        return (text, record)
    }

    /// Every token, oldest first; never their text (the store does not have it).
    public func tokens() async throws -> [TokenRecord] {
        try await store.listTokens()
    }

    public func revokeToken(id: Int64) async throws -> TokenRecord {
        let id = try AdminInput.id(id, field: "id")
        guard let revoked = try await store.revokeToken(id: id) else { throw CatalogError.unknown("token \(id)") }
        return revoked
    }

    public func revokeToken(text: String) async throws -> TokenRecord {
        guard let record = try await store.token(hash: TokenHash(of: text)) else { throw CatalogError.unknown("token") }
        return try await revokeToken(id: record.id)
    }
}

/// What a new token is for.
public enum NewToken: Sendable {
    case organization(OrganizationRef, TokenScope, description: String?)
    case telephony(description: String?)
    /// Only through the CLI: an admin token cannot make another one over HTTP (SPEC 6.1).
    case admin(description: String?)

    var kind: TokenKind {
        switch self {
        case .organization: .organization
        case .telephony: .telephony
        case .admin: .admin
        }
    }
}
