import CIPDomain

/// The schema and health of a database, whatever it stores.
public protocol DatabaseStore: Sendable {
    /// Applies the schema migrations not yet applied; safe to call at every start.
    func migrate() async throws
    /// Succeeds when the database answers (`/ready`).
    func ping() async throws
}

/// Networks, advertisers and custom data fields (SPEC 6).
public protocol CatalogStore: DatabaseStore {
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
    /// Changes an advertiser's name and/or id from its network (nil leaves it), the name still new
    /// within its network; returns the advertiser before and after.
    func updateAdvertiser(
        id: Int64, name: String?, idFromNetwork: String?
    ) async throws -> (before: Advertiser, after: Advertiser)
    /// Appends `values` not yet allowed to a field's allowed values, in order; returns the field.
    func addAllowedValues(networkID: Int64, name: String, values: [String]) async throws -> CustomDataField
}

/// API and telephony tokens, stored by their hash (SPEC 2.1, 6).
public protocol TokenStore: DatabaseStore {
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
    /// Which of `ids` are revoked (or gone): one read for every token a node's open streams use.
    func revokedTokens(among ids: [Int64]) async throws -> Set<Int64>
}

/// Completed calls, read (SPEC 5).
public protocol CompletedCallStore: DatabaseStore {
    /// Calls `body` with each completed call that `filter` selects, oldest end first, without
    /// holding them all in memory.
    func forEachCompletedCall(
        _ filter: CompletedCallFilter, _ body: @escaping @Sendable (CallRecord) throws -> Void
    ) async throws
    /// The stored call, live or ended (a completed call keeps its final state); nil when unknown.
    func call(transactionID: String) async throws -> CallRecord?
}

/// What `cip admin` may use: the catalog, tokens, and the export. It cannot write a call.
public typealias AdminStore = CatalogStore & TokenStore & CompletedCallStore

/// Calls in progress and their change log: the write path every change to a call takes.
///
/// Every write is committed before it returns, so an acknowledged write survives a crash; every
/// change to a call object is recorded in the change log in the same transaction.
public protocol CallStore: Sendable {
    /// The live calls matching `query`, most recently transferred first, ties by transaction id.
    func currentCalls(_ query: CallQuery) async throws -> [CallRecord]
    /// The same calls as `currentCalls`, each as its call object (SPEC 2.3), ready to send.
    func currentCallObjects(_ query: CallQuery) async throws -> [CallObjectJSON]
    /// SPEC 2.2's answer for `query`, cut at its page (2.8), with its ETag (2.7). With
    /// `rememberingETag`, a poller's request, the store may remember the tag for `knownListingETag`.
    func currentCallListing(_ query: CallQuery, rememberingETag: Bool) async throws -> CallListing
    /// The ETag `currentCallListing` would give for `query`, when the store knows it without listing
    /// (nothing changed since it last did); nil otherwise.
    func knownListingETag(_ query: CallQuery) async throws -> String?
    /// Applies `update` to the live call `selector` names within `scope`, atomically.
    /// Throws `DomainError.notFound` when no live call matches, `.externalIDTaken` on a conflict.
    func updateCall(_ selector: CallSelector, in scope: CallScope, _ update: CallUpdate) async throws -> CallRecord
    /// `updateCall`, answered as sent: the call object after the update and its ETag. A backend that
    /// already holds the object written (its change record's, or memory's for a no-op) hands it back.
    func updateCallObject(
        _ selector: CallSelector, in scope: CallScope, _ update: CallUpdate
    ) async throws
        -> UpdatedCall
    /// Applies a feed request in one transaction. The calls `transactionIDs` name are locked and read
    /// once; `parse` turns the request into checked events knowing the network of each of those calls
    /// that is stored, and the events are applied in order, one outcome each.
    func apply<Parsed: Sendable>(
        naming transactionIDs: [String], receivedAt: Timestamp,
        _ parse: @escaping @Sendable (_ storedNetworks: [String: Int64]) throws -> (Parsed, [CallEvent])
    ) async throws -> (Parsed, [CallLifecycle.Outcome])
    /// How many calls are in progress now.
    func liveCallCount() async throws -> Int
    /// Carries an advertiser's rename onto its live calls (the rule is `AdvertiserRename`'s), as
    /// changes of those calls; returns how many changed. Doing it twice changes nothing more.
    func followRename(_ rename: AdvertiserRename) async throws -> Int

    /// The organization's calls in progress as of the latest sequence number.
    func snapshot(_ scope: CallScope) async throws -> ChangeSnapshot

    /// Rung once new changes may be readable from the change log: after this process's commits, and
    /// on PostgreSQL after any node's (the change stream's follower waits on it).
    var changeBell: ChangeBell { get }
}

/// The change log of SPEC 8, read: any process may read it beside the servers that write it.
public protocol ChangeLogStore: DatabaseStore {
    /// The changes after `sequence` visible to `organization` (all of them when it is nil), in
    /// sequence order, at most `limit`. An advertiser also sees a change that moved one of its calls
    /// away (`previousAdvertiserID`).
    func changes(
        after sequence: Int64, visibleTo organization: OrganizationRef?, limit: Int
    ) async throws
        -> [LoggedChange]
    /// Which sequence numbers the change log can still give.
    func changeLogBounds() async throws -> ChangeLogBounds
}

/// The background work of a serving store: expiry and the purges of retention.
public protocol MaintenanceStore: PreCallStore {
    /// Ends, as `expired` at `now`, every live call whose last event was received before `cutoff`.
    /// Returns how many calls it ended.
    func expireCalls(silentSince cutoff: Timestamp, now: Timestamp) async throws -> Int
    /// Deletes completed calls (and what was remembered of their events) that ended, by the
    /// service's clock, before `cutoff`. Returns how many calls it deleted.
    func purgeCompletedCalls(endedBefore cutoff: Timestamp) async throws -> Int
    /// Deletes the change log's records committed before `cutoff`. Returns how many it deleted.
    func purgeChanges(committedBefore cutoff: Timestamp) async throws -> Int
    /// Claims this round of background `job` for the caller: true at most once per `interval` across
    /// every node that shares the database, so expiry and purge run once, not once per node.
    func claimMaintenanceRound(job: String, now: Timestamp, every interval: Duration) async throws -> Bool
}

/// SPEC 2.9's pre-call data, apart from its use by the write path (which consumes it at a bridge).
public protocol PreCallStore: Sendable {
    /// Stores an entry, replacing the organization's entry for the same numbers; returns it as stored.
    func putPreCallData(_ entry: PreCallData) async throws -> PreCallEntry
    /// The organization's entries not expired at `now`, newest first.
    func preCallData(for organization: OrganizationRef, now: Timestamp) async throws -> [PreCallEntry]
    /// Removes the organization's entry for these numbers; nil when there is none (or it expired).
    func withdrawPreCallData(
        for organization: OrganizationRef, calling: String, destination: String?, now: Timestamp
    ) async throws -> PreCallEntry?
    /// Removes the entries expired at `now`; how many.
    func purgeExpiredPreCallData(now: Timestamp) async throws -> Int
}

/// Everything `cip serve` uses.
public typealias ServingStore = AdminStore & ChangeLogStore & CallStore & MaintenanceStore & PreCallStore

extension CallStore {
    /// Applies checked events in order, in one transaction; one outcome per event.
    public func apply(_ events: [CallEvent], receivedAt: Timestamp) async throws -> [CallLifecycle.Outcome] {
        guard !events.isEmpty else { return [] }
        return try await apply(naming: events.map(\.transactionID), receivedAt: receivedAt) { _ in ((), events) }.1
    }

    public func currentCallObjects(_ query: CallQuery) async throws -> [CallObjectJSON] {
        try await currentCalls(query).map(CallObjectJSON.init)
    }

    public func updateCallObject(
        _ selector: CallSelector, in scope: CallScope, _ update: CallUpdate
    ) async throws -> UpdatedCall {
        UpdatedCall(try await updateCall(selector, in: scope, update))
    }

    /// From `currentCalls`, which honours the page's cursor and reads one call past its limit.
    public func currentCallListing(_ query: CallQuery, rememberingETag: Bool) async throws -> CallListing {
        CallListing(try await currentCalls(query), page: query.page)
    }

    public func knownListingETag(_ query: CallQuery) async throws -> String? { nil }
}

/// How many rows one purge transaction deletes: small enough that requests are not held up behind
/// it, on either backend.
let purgeBatchSize = 2000

/// Runs `batch` (one purge transaction of at most `purgeBatchSize` rows) until a batch comes up short,
/// so requests are never held up behind one long purge; returns how many rows were deleted.
func purgeInBatches(_ batch: () async throws -> Int) async throws -> Int {
    var total = 0
    while true {
        let deleted = try await batch()
        total += deleted
        if deleted < purgeBatchSize { return total }
    }
}

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
