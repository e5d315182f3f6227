import CIPDomain
import Synchronization

/// The live calls held in memory, found by every key SPEC 2.2 and 2.4 look them up by, so that reads
/// are answered in the request's own task instead of by a database round trip.
///
/// It is a copy, never the record: its store changes it only after a commit, in commit order, so it
/// always equals the committed live calls, and it is rebuilt from the database when first needed.
final class LiveCallIndex: Sendable {
    private let state = Mutex(State())
    /// The ETag of each listing answered lately, with the sequence number it was true at: a poller
    /// whose list has not changed is answered `304` without listing it again (SPEC 2.7).
    private let listingETags = Mutex<[CallQuery: (sequence: Int64, etag: String)]>([:])
    private static let maxRememberedETags = 4_096

    fileprivate struct State {
        var isLoaded = false
        /// The change log's sequence number of the last commit applied here.
        var sequence: Int64 = 0
        var calls: [String: LiveCall] = [:]
        var byExternalID: [NetworkExternalID: String] = [:]
        var byPhonePair: [PhonePair: [String]] = [:]
        var byNetwork: [Int64: Set<String>] = [:]
        var byAdvertiser: [Int64: Set<String>] = [:]
        /// An organization's live calls in SPEC 2.2's order, made when first listed and dropped when
        /// one of them changes: paging reads a page of it instead of sorting every call of the
        /// organization for every page.
        var ordered: [OrganizationRef: [LiveCall]] = [:]
        /// Orderings dropped by the current commit, released once its lock is let go.
        var dropped: [[LiveCall]] = []
    }

    /// A live call and its call object, written once when it changes rather than at every read.
    /// A class, so that the indexes and every answer share one copy.
    fileprivate final class LiveCall: Sendable {
        let record: CallRecord
        let object: CallObjectJSON

        init(_ record: CallRecord) {
            self.record = record
            self.object = CallObjectJSON(record)
        }
    }

    fileprivate struct NetworkExternalID: Hashable {
        let networkID: Int64
        let externalUniqueID: String
    }

    var count: Int { state.withLock { $0.calls.count } }

    /// Fills the index with every live call, as of the change log's `sequence`; later changes apply
    /// only once it is loaded.
    func load(_ records: some Sequence<CallRecord>, sequence: Int64) {
        let calls = records.filter(\.isLive).map(LiveCall.init)
        state.withLock { state in
            state = State()
            state.isLoaded = true
            state.sequence = sequence
            for call in calls { state.insert(call) }
        }
    }

    /// Records the committed state of `records`: live ones replace what was known, ended ones leave.
    /// `sequence` is the change log's last sequence number after the commit.
    func commit(_ records: [CallRecord], sequence: Int64) {
        // A batch may change one call several times: only its last state is written, and before
        // taking the lock, so readers do not wait for it.
        var last: [String: Int] = [:]
        for (position, record) in records.enumerated() { last[record.transactionID] = position }
        let final = records.indices.filter { last[records[$0].transactionID] == $0 }.map { records[$0] }
        let calls = final.map { $0.isLive ? LiveCall($0) : nil }
        let dropped = state.withLock { state -> [[LiveCall]] in
            guard state.isLoaded else { return [] }
            state.sequence = max(state.sequence, sequence)
            for (record, call) in zip(final, calls) {
                state.remove(record.transactionID)
                if let call { state.insert(call) }
            }
            defer { state.dropped = [] }
            return state.dropped
        }
        _ = dropped  // released here, outside the lock
    }

    /// The calls `scope` may see and the sequence number they are as of, read under one lock.
    func snapshot(_ scope: CallScope) -> ChangeSnapshot {
        let query = CallQuery(scope: scope, transactionID: nil, externalUniqueID: nil, phonePair: nil)
        let (found, sequence) = state.withLock { state in (state.matching(query), state.sequence) }
        return ChangeSnapshot(sequence: sequence, calls: Self.listed(found).map(\.object))
    }

    /// The live calls `query` selects, in SPEC 2.2's order.
    func calls(matching query: CallQuery) -> [CallRecord] {
        liveCalls(matching: query).map(\.record)
    }

    /// The call objects of the live calls `query` selects, in SPEC 2.2's order.
    func callObjects(matching query: CallQuery) -> [CallObjectJSON] {
        liveCalls(matching: query).map(\.object)
    }

    /// SPEC 2.2's answer for `query`, cut at its page, with its ETag, remembered for `knownETag` when
    /// asked (a poller's request: remembering every lookup by id would fill the memo for nothing).
    func listing(matching query: CallQuery, rememberingETag: Bool = false) -> CallListing {
        let listing: CallListing
        let sequence: Int64
        if query.transactionID == nil, query.externalUniqueID == nil, query.phonePair == nil {
            // A whole organization's list, or a page of it: read from its ordering.
            let (ordered, current) = state.withLock { state in
                (state.orderedCalls(of: query.scope.organization.ref), state.sequence)
            }
            sequence = current
            let start =
                query.page.after.map { after in Self.firstIndex(in: ordered) { after.isFollowed(by: $0.record) } } ?? 0
            let end = query.page.limit.map { min(ordered.count, start + $0 + 1) } ?? ordered.count
            listing = Self.listing(Array(ordered[start..<end]), page: query.page)
        } else {
            // A filter by transaction id, external id or phone pair selects a handful of calls.
            let (found, current) = state.withLock { state in (state.matching(query), state.sequence) }
            sequence = current
            listing = Self.listing(Self.listed(found), page: query.page)
        }
        if rememberingETag {
            listingETags.withLock { remembered in
                if remembered.count >= Self.maxRememberedETags { remembered.removeAll(keepingCapacity: true) }
                remembered[query] = (sequence, listing.etag)
            }
        }
        return listing
    }

    private static func listing(_ calls: [LiveCall], page: CallPage) -> CallListing {
        CallListing(
            calls, page: page,
            position: { CallPosition(transferStart: $0.record.transferStart, transactionID: $0.record.transactionID) },
            version: { $0.record.version }, object: { $0.object })
    }

    /// The ETag `listing(matching:)` gave for `query`, if nothing was committed since.
    func knownETag(_ query: CallQuery) -> String? {
        let sequence = state.withLock { $0.sequence }
        return listingETags.withLock { remembered in
            remembered[query].flatMap { $0.sequence == sequence ? $0.etag : nil }
        }
    }

    private func liveCalls(matching query: CallQuery) -> [LiveCall] {
        Self.listed(state.withLock { $0.matching(query) })
    }

    /// The first index of `ordered` whose call satisfies `follows` (which holds for a suffix of it).
    private static func firstIndex(in ordered: [LiveCall], where follows: (LiveCall) -> Bool) -> Int {
        var low = 0
        var high = ordered.count
        while low < high {
            let middle = (low + high) / 2
            if follows(ordered[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// Calls in SPEC 2.2's order.
    private static func listed(_ calls: [LiveCall]) -> [LiveCall] {
        calls.count > 1 ? calls.sorted { CallRecord.listedBefore($0.record, $1.record) } : calls
    }

    /// The live call `selector` names within `scope`, if any.
    func call(_ selector: CallSelector, in scope: CallScope) -> CallRecord? {
        state.withLock { state in
            let transactionID: String? =
                selector.transactionID
                ?? selector.externalUniqueID.flatMap {
                    state.byExternalID[NetworkExternalID(networkID: scope.organization.networkID, externalUniqueID: $0)]
                }
            guard let transactionID, let record = state.calls[transactionID]?.record,
                selector.matches(record, in: scope)
            else { return nil }
            return record
        }
    }
}

extension LiveCallIndex.State {
    /// `organization`'s live calls in SPEC 2.2's order, made now if no change dropped it since.
    fileprivate mutating func orderedCalls(of organization: OrganizationRef) -> [LiveCallIndex.LiveCall] {
        if let ordered = ordered[organization] { return ordered }
        let ids = (organization.type == .network ? byNetwork[organization.id] : byAdvertiser[organization.id]) ?? []
        let made = ids.compactMap { calls[$0] }.sorted { CallRecord.listedBefore($0.record, $1.record) }
        ordered[organization] = made
        return made
    }

    /// Drops the orderings `record` is part of.
    fileprivate mutating func dropOrderings(of record: CallRecord) {
        if let gone = ordered.removeValue(forKey: OrganizationRef(type: .network, id: record.networkID)) {
            dropped.append(gone)
        }
        if let advertiserID = record.advertiserID,
            let gone = ordered.removeValue(forKey: OrganizationRef(type: .advertiser, id: advertiserID))
        {
            dropped.append(gone)
        }
    }

    fileprivate func matching(_ query: CallQuery) -> [LiveCallIndex.LiveCall] {
        var found: [LiveCallIndex.LiveCall] = []
        forEachCandidate(of: query) { call in
            if query.matches(call.record) { found.append(call) }
        }
        return found
    }

    /// Visits the calls of the narrowest index the query names; the caller still checks every filter.
    fileprivate func forEachCandidate(of query: CallQuery, _ visit: (LiveCallIndex.LiveCall) -> Void) {
        func visitAll(_ transactionIDs: some Sequence<String>) {
            for transactionID in transactionIDs {
                if let call = calls[transactionID] { visit(call) }
            }
        }
        let scope = query.scope.organization
        if let transactionID = query.transactionID {
            visitAll(CollectionOfOne(transactionID))
        } else if let externalUniqueID = query.externalUniqueID {
            let key = LiveCallIndex.NetworkExternalID(networkID: scope.networkID, externalUniqueID: externalUniqueID)
            visitAll(byExternalID[key].map { [$0] } ?? [])
        } else if let phonePair = query.phonePair {
            visitAll(byPhonePair[phonePair] ?? [])
        } else {
            switch scope.ref.type {
            case .network: visitAll(byNetwork[scope.ref.id] ?? [])
            case .advertiser: visitAll(byAdvertiser[scope.ref.id] ?? [])
            }
        }
    }

    fileprivate mutating func insert(_ call: LiveCallIndex.LiveCall) {
        let record = call.record
        let transactionID = record.transactionID
        dropOrderings(of: record)
        calls[transactionID] = call
        if let externalUniqueID = record.externalUniqueID {
            let key = LiveCallIndex.NetworkExternalID(networkID: record.networkID, externalUniqueID: externalUniqueID)
            byExternalID[key] = transactionID
        }
        byPhonePair[record.phonePair, default: []].append(transactionID)
        byNetwork[record.networkID, default: []].insert(transactionID)
        if let advertiserID = record.advertiserID { byAdvertiser[advertiserID, default: []].insert(transactionID) }
    }

    fileprivate mutating func remove(_ transactionID: String) {
        guard let record = calls.removeValue(forKey: transactionID)?.record else { return }
        dropOrderings(of: record)
        if let externalUniqueID = record.externalUniqueID {
            let key = LiveCallIndex.NetworkExternalID(networkID: record.networkID, externalUniqueID: externalUniqueID)
            if byExternalID[key] == transactionID { byExternalID[key] = nil }
        }
        let pair = record.phonePair
        byPhonePair[pair]?.removeAll { $0 == transactionID }
        if byPhonePair[pair]?.isEmpty == true { byPhonePair[pair] = nil }
        byNetwork[record.networkID]?.remove(transactionID)
        if byNetwork[record.networkID]?.isEmpty == true { byNetwork[record.networkID] = nil }
        if let advertiserID = record.advertiserID {
            byAdvertiser[advertiserID]?.remove(transactionID)
            if byAdvertiser[advertiserID]?.isEmpty == true { byAdvertiser[advertiserID] = nil }
        }
    }
}

extension CallRecord {
    fileprivate var phonePair: PhonePair {
        PhonePair(calling: callingPhoneNumber, destination: destinationPhoneNumber)
    }
}
