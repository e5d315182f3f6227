import CIPDomain

/// What the service needs from storage: the catalog, tokens, and calls in progress with their events.
///
/// Every write is committed before it returns, so an acknowledged write survives a crash.
public protocol CallStore: Sendable {
    /// Applies the schema migrations not yet applied; safe to call at every start.
    func migrate() async throws
    /// Succeeds when the database answers (`/ready`).
    func ping() async throws

    /// Creates a network; its name must be new (`CatalogError.duplicateName`).
    func createNetwork(name: String, country: String) async throws -> Network
    /// Creates an advertiser in an existing network, with a name new within that network.
    func createAdvertiser(networkID: Int64, name: String, idFromNetwork: String?) async throws -> Advertiser
    /// Defines a custom data field for an existing network, with a name new within that network.
    func createField(
        networkID: Int64, name: String, dataType: CustomDataType, allowedValues: [String]
    ) async throws -> CustomDataField
    /// Every network, advertiser and field.
    func loadCatalog() async throws -> Catalog

    /// Stores a new token by its hash and returns its record.
    func createToken(
        hash: TokenHash, kind: TokenKind, organization: OrganizationRef?, scope: TokenScope, description: String?,
        createdAt: Timestamp
    ) async throws -> TokenRecord
    /// The token with this hash, revoked or not; nil when there is none.
    func token(hash: TokenHash) async throws -> TokenRecord?
    /// Every token, oldest first.
    func listTokens() async throws -> [TokenRecord]
    /// Revokes a token by id; nil when there is no such token.
    func revokeToken(id: Int64) async throws -> TokenRecord?

    /// The live calls matching `query`, most recently transferred first, ties by transaction id.
    func currentCalls(_ query: CallQuery) async throws -> [CallRecord]
    /// The same calls as `currentCalls`, each as its call object (SPEC 2.3), ready to send.
    func currentCallObjects(_ query: CallQuery) async throws -> [CallObjectJSON]
    /// Applies `update` to the live call `selector` names within `scope`, atomically.
    /// Throws `DomainError.notFound` when no live call matches, `.externalIDTaken` on a conflict.
    func updateCall(_ selector: CallSelector, in scope: CallScope, _ update: CallUpdate) async throws -> CallRecord
    /// The stored call, live or ended (a completed call keeps its final state); nil when unknown.
    func call(transactionID: String) async throws -> CallRecord?
    /// The network of each stored call (live or ended) among `transactionIDs`.
    func networkIDs(ofCalls transactionIDs: [String]) async throws -> [String: Int64]
    /// Applies checked events in order, in one transaction; one outcome per event.
    func apply(_ events: [CallEvent], receivedAt: Timestamp) async throws -> [CallLifecycle.Outcome]

    /// Ends, as `expired` at `now`, every live call whose last event was received before `cutoff`.
    /// Returns how many calls it ended.
    func expireCalls(silentSince cutoff: Timestamp, now: Timestamp) async throws -> Int
    /// Deletes completed calls (and what was remembered of their events) that ended, by the
    /// service's clock, before `cutoff`. Returns how many calls it deleted.
    func purgeCompletedCalls(endedBefore cutoff: Timestamp) async throws -> Int
    /// Calls `body` with each completed call that `filter` selects, oldest end first, without
    /// holding them all in memory.
    func forEachCompletedCall(
        _ filter: CompletedCallFilter, _ body: @escaping @Sendable (CallRecord) throws -> Void
    ) async throws
    /// How many calls are in progress now.
    func liveCallCount() async throws -> Int
    /// Claims this round of background `job` for the caller: true at most once per `interval` across
    /// every node that shares the database, so expiry and purge run once, not once per node.
    func claimMaintenanceRound(job: String, now: Timestamp, every interval: Duration) async throws -> Bool
}

extension CallStore {
    public func currentCallObjects(_ query: CallQuery) async throws -> [CallObjectJSON] {
        try await currentCalls(query).map(CallObjectJSON.init)
    }
}

/// How many completed calls one purge transaction deletes: small enough that requests are not held
/// up behind it, on either backend.
let purgeBatchSize = 2000

/// SPEC 6's filters of `calls export`; nil means no limit.
public struct CompletedCallFilter: Sendable, Hashable {
    public var networkID: Int64?
    public var advertiserID: Int64?
    /// Calls that ended at or after this time.
    public var since: Timestamp?
    /// Calls that ended before this time.
    public var until: Timestamp?

    public init(networkID: Int64? = nil, advertiserID: Int64? = nil, since: Timestamp? = nil, until: Timestamp? = nil) {
        self.networkID = networkID
        self.advertiserID = advertiserID
        self.since = since
        self.until = until
    }
}
