import CIPDomain
import Synchronization

/// The live calls held in memory, found by every key SPEC 2.2 and 2.4 look them up by, so that reads
/// are answered in the request's own task instead of by a database round trip.
///
/// It is a copy, never the record: its store changes it only after a commit (SQLite) or from the
/// change log (PostgreSQL), in sequence order, so it always equals the live calls as of `sequence`.
final class LiveCallIndex: Sendable {
    private let state = Mutex(State())
    /// The ETag of each listing answered lately, with the sequence number it was true at: a poller
    /// whose list has not changed is answered `304` without listing it again (SPEC 2.7).
    private let listingETags = Mutex<[CallQuery: (sequence: Int64, etag: String)]>([:])
    private static let maxRememberedETags = 4_096

    fileprivate struct State {
        /// The change log's sequence number of the last change applied here.
        var sequence: Int64 = 0
        var calls: [String: LiveCall] = [:]
        var byExternalID: [NetworkExternalID: String] = [:]
        /// By the pair's hash (8 bytes of key instead of two strings' 32, the biggest of these tables
        /// at a million calls); one call for most pairs, an array only for the pairs of several live
        /// calls. Two pairs with one hash share a slot: every candidate is checked against the query.
        var byPhonePair: [Int: PairedCalls] = [:]
        var byNetwork: [Int64: Set<String>] = [:]
        var byAdvertiser: [Int64: Set<String>] = [:]
        /// An organization's live calls in SPEC 2.2's order, made when first listed and dropped when
        /// one of them changes: paging reads a page of it instead of sorting every call of the
        /// organization for every page.
        var ordered: [OrganizationRef: [LiveCall]] = [:]
        /// Orderings dropped by the current commit, released once its lock is let go.
        var dropped: [[LiveCall]] = []
    }

    fileprivate struct NetworkExternalID: Hashable {
        let networkID: Int64
        let externalUniqueID: String
    }

    fileprivate enum PairedCalls {
        case one(LiveCall)
        case several([LiveCall])
    }

    var count: Int { state.withLock { $0.calls.count } }

    /// The sequence number of the last change applied.
    var sequence: Int64 { state.withLock { $0.sequence } }

    /// Replaces the index with `calls`, the live calls as of the change log's `sequence`.
    func load(_ calls: some Sequence<LiveCall>, sequence: Int64) {
        state.withLock { state in
            state = State()
            state.sequence = sequence
            for call in calls { state.insert(call) }
        }
    }

    /// Applies committed changes: each transaction id's new state, nil for a call no longer live.
    /// `sequence` is the change log's last sequence number after them; an older one changes nothing
    /// (a change the index already holds).
    func apply(_ changes: [(transactionID: String, call: LiveCall?)], through sequence: Int64) {
        let dropped = state.withLock { state -> [[LiveCall]] in
            guard sequence >= state.sequence else { return [] }
            state.sequence = sequence
            for (transactionID, call) in changes {
                state.remove(transactionID)
                if let call { state.insert(call) }
            }
            defer { state.dropped = [] }
            return state.dropped
        }
        _ = dropped  // released here, outside the lock
    }

    /// Records the committed state of `records` (live ones replace what was known, ended ones leave),
    /// `sequence` being the change log's last sequence number after the commit; `written` holds the
    /// call objects the write already wrote, by transaction id.
    func commit(_ records: [CallRecord], written: [String: WrittenObject], sequence: Int64) {
        // A batch may change one call several times: only its last state is written, and before
        // taking the lock, so readers do not wait for it.
        var last: [String: Int] = [:]
        for (position, record) in records.enumerated() { last[record.transactionID] = position }
        let changes = records.indices.filter { last[records[$0].transactionID] == $0 }.map {
            let record = records[$0]
            return (
                transactionID: record.transactionID,
                call: record.isLive ? LiveCall(record, written: written[record.transactionID]) : nil
            )
        }
        apply(changes, through: sequence)
    }

    /// The calls `scope` may see and the sequence number they are as of, read under one lock.
    func snapshot(_ scope: CallScope) -> ChangeSnapshot {
        let query = CallQuery(scope: scope, transactionID: nil, externalUniqueID: nil, phonePair: nil)
        let (found, sequence) = state.withLock { state in (state.matching(query), state.sequence) }
        return ChangeSnapshot(sequence: sequence, calls: Self.listed(found).map(\.object))
    }

    /// The live calls `query` selects, in SPEC 2.2's order.
    func calls(matching query: CallQuery) -> [LiveCall] {
        Self.listed(state.withLock { $0.matching(query) })
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
                query.page.after.map { after in Self.firstIndex(in: ordered) { after.isFollowed(by: $0.position) } }
                ?? 0
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
        CallListing(calls, page: page, position: \.position, version: \.version, object: \.object)
    }

    /// The ETag `listing(matching:)` gave for `query`, if nothing was applied since.
    func knownETag(_ query: CallQuery) -> String? {
        let sequence = state.withLock { $0.sequence }
        return listingETags.withLock { remembered in
            remembered[query].flatMap { $0.sequence == sequence ? $0.etag : nil }
        }
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
        calls.count > 1 ? calls.sorted(by: LiveCall.listedBefore) : calls
    }

    /// The live call `selector` names within `scope`, if any.
    func call(_ selector: CallSelector, in scope: CallScope) -> LiveCall? {
        state.withLock { state in
            let transactionID: String? =
                selector.transactionID
                ?? selector.externalUniqueID.flatMap {
                    state.byExternalID[NetworkExternalID(networkID: scope.organization.networkID, externalUniqueID: $0)]
                }
            guard let transactionID, let call = state.calls[transactionID], call.isSelected(by: selector, in: scope)
            else { return nil }
            return call
        }
    }
}

extension LiveCallIndex.State {
    /// `organization`'s live calls in SPEC 2.2's order, made now if no change dropped it since.
    fileprivate mutating func orderedCalls(of organization: OrganizationRef) -> [LiveCall] {
        if let ordered = ordered[organization] { return ordered }
        let ids = (organization.type == .network ? byNetwork[organization.id] : byAdvertiser[organization.id]) ?? []
        let made = ids.compactMap { calls[$0] }.sorted(by: LiveCall.listedBefore)
        ordered[organization] = made
        return made
    }

    /// Drops the orderings `call` is part of.
    fileprivate mutating func dropOrderings(of call: LiveCall) {
        if let gone = ordered.removeValue(forKey: OrganizationRef(type: .network, id: call.networkID)) {
            dropped.append(gone)
        }
        if let advertiserID = call.advertiserID,
            let gone = ordered.removeValue(forKey: OrganizationRef(type: .advertiser, id: advertiserID))
        {
            dropped.append(gone)
        }
    }

    fileprivate func matching(_ query: CallQuery) -> [LiveCall] {
        var found: [LiveCall] = []
        forEachCandidate(of: query) { call in
            if call.matches(query) { found.append(call) }
        }
        return found
    }

    /// Visits the calls of the narrowest index the query names; the caller still checks every filter.
    fileprivate func forEachCandidate(of query: CallQuery, _ visit: (LiveCall) -> Void) {
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
            if let transactionID = byExternalID[key] { visitAll(CollectionOfOne(transactionID)) }
        } else if let phonePair = query.phonePair {
            switch byPhonePair[phonePair.hashValue] {
            case .one(let call): visit(call)
            case .several(let calls): calls.forEach(visit)
            case nil: break
            }
        } else {
            switch scope.ref.type {
            case .network: visitAll(byNetwork[scope.ref.id] ?? [])
            case .advertiser: visitAll(byAdvertiser[scope.ref.id] ?? [])
            }
        }
    }

    fileprivate mutating func insert(_ call: LiveCall) {
        let transactionID = call.transactionID
        dropOrderings(of: call)
        calls[transactionID] = call
        if let externalUniqueID = call.externalUniqueID {
            let key = LiveCallIndex.NetworkExternalID(networkID: call.networkID, externalUniqueID: externalUniqueID)
            byExternalID[key] = transactionID
        }
        let pair = call.phonePair.hashValue
        switch byPhonePair[pair] {
        case nil: byPhonePair[pair] = .one(call)
        case .one(let other): byPhonePair[pair] = .several([other, call])
        case .several(var others):
            byPhonePair[pair] = nil  // so that the array is not copied to append
            others.append(call)
            byPhonePair[pair] = .several(others)
        }
        byNetwork[call.networkID, default: []].insert(transactionID)
        if let advertiserID = call.advertiserID { byAdvertiser[advertiserID, default: []].insert(transactionID) }
    }

    fileprivate mutating func remove(_ transactionID: String) {
        guard let call = calls.removeValue(forKey: transactionID) else { return }
        dropOrderings(of: call)
        if let externalUniqueID = call.externalUniqueID {
            let key = LiveCallIndex.NetworkExternalID(networkID: call.networkID, externalUniqueID: externalUniqueID)
            if byExternalID[key] == transactionID { byExternalID[key] = nil }
        }
        let pair = call.phonePair.hashValue
        switch byPhonePair[pair] {
        case .one(let only) where only.transactionID == transactionID: byPhonePair[pair] = nil
        case .several(var several):
            several.removeAll { $0.transactionID == transactionID }
            byPhonePair[pair] = several.count == 1 ? .one(several[0]) : .several(several)
        default: break
        }
        byNetwork[call.networkID]?.remove(transactionID)
        if byNetwork[call.networkID]?.isEmpty == true { byNetwork[call.networkID] = nil }
        if let advertiserID = call.advertiserID {
            byAdvertiser[advertiserID]?.remove(transactionID)
            if byAdvertiser[advertiserID]?.isEmpty == true { byAdvertiser[advertiserID] = nil }
        }
    }
}
