import CIPDomain

/// A serving store answers for its database too (catalog, tokens, export), so the server holds one
/// store; this forwards those (and the change log's reads), once for every backend.
public protocol DatabaseForwarding: AdminStore {
    associatedtype Database: AdminStore & ChangeLogStore & PreCallStore
    var database: Database { get }
    /// The webhooks' table of the same database (SPEC 9).
    var webhookTable: WebhookTable { get }
}

extension DatabaseForwarding {
    public func migrate() async throws { try await database.migrate() }
    public func ping() async throws { try await database.ping() }

    public func createNetwork(name: String, country: String) async throws -> Network {
        try await database.createNetwork(name: name, country: country)
    }

    public func createAdvertiser(networkID: Int64, name: String, idFromNetwork: String?) async throws -> Advertiser {
        try await database.createAdvertiser(networkID: networkID, name: name, idFromNetwork: idFromNetwork)
    }

    public func createField(
        networkID: Int64, name: String, dataType: CustomDataType, allowedValues: [String]
    ) async throws -> CustomDataField {
        try await database.createField(
            networkID: networkID, name: name, dataType: dataType, allowedValues: allowedValues)
    }

    public func loadCatalog() async throws -> Catalog { try await database.loadCatalog() }

    public func updateAdvertiser(
        id: Int64, name: String?, idFromNetwork: String?
    ) async throws -> (before: Advertiser, after: Advertiser) {
        try await database.updateAdvertiser(id: id, name: name, idFromNetwork: idFromNetwork)
    }

    public func addAllowedValues(networkID: Int64, name: String, values: [String]) async throws -> CustomDataField {
        try await database.addAllowedValues(networkID: networkID, name: name, values: values)
    }

    public func createToken(
        hash: TokenHash, kind: TokenKind, organization: OrganizationRef?, scope: TokenScope, description: String?,
        createdAt: Timestamp
    ) async throws -> TokenRecord {
        try await database.createToken(
            hash: hash, kind: kind, organization: organization, scope: scope, description: description,
            createdAt: createdAt)
    }

    public func token(hash: TokenHash) async throws -> TokenRecord? { try await database.token(hash: hash) }
    public func listTokens() async throws -> [TokenRecord] { try await database.listTokens() }
    public func revokeToken(id: Int64) async throws -> TokenRecord? { try await database.revokeToken(id: id) }
    public func revokedTokens(among ids: [Int64]) async throws -> Set<Int64> {
        try await database.revokedTokens(among: ids)
    }

    public func forEachCompletedCall(
        _ filter: CompletedCallFilter, _ body: @escaping @Sendable (CallRecord) throws -> Void
    ) async throws {
        try await database.forEachCompletedCall(filter, body)
    }

    public func changes(
        after sequence: Int64, visibleTo organization: OrganizationRef?, limit: Int
    ) async throws
        -> [LoggedChange]
    {
        try await database.changes(after: sequence, visibleTo: organization, limit: limit)
    }

    public func changeLogBounds() async throws -> ChangeLogBounds { try await database.changeLogBounds() }

    public func call(transactionID: String) async throws -> CallRecord? {
        try await database.call(transactionID: transactionID)
    }
}

extension DatabaseForwarding {
    public func putPreCallData(_ entry: PreCallData) async throws -> PreCallEntry {
        try await database.putPreCallData(entry)
    }

    public func preCallData(for organization: OrganizationRef, now: Timestamp) async throws -> [PreCallEntry] {
        try await database.preCallData(for: organization, now: now)
    }

    public func withdrawPreCallData(
        for organization: OrganizationRef, calling: String, destination: String?, now: Timestamp
    ) async throws -> PreCallEntry? {
        try await database.withdrawPreCallData(for: organization, calling: calling, destination: destination, now: now)
    }

    public func purgeExpiredPreCallData(now: Timestamp) async throws -> Int {
        try await database.purgeExpiredPreCallData(now: now)
    }
}
