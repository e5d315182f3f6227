import CIPDomain

/// What one transaction writes to calls, decided above the backends: the calls' new states, the
/// events to remember, and the change log's records. A backend only locks and reads the calls a
/// write names and writes what this holds; every rule lives here and in `CallLifecycle`.
struct CallWrite: Sendable {
    /// The final state of each call the transaction changes, once per call.
    private(set) var upserts: [CallRecord] = []
    /// The state each of `upserts` had before the transaction, in the same order; nil for a call
    /// the database does not hold yet. A backend may write only the columns that changed.
    private(set) var stored: [CallRecord?] = []
    /// Events to recognize as repeats later: applied and ignored ones (SPEC 4's idempotency).
    private(set) var remembered: [EventIdentity] = []
    /// Every change of a call object, in the order it happened.
    private(set) var changes: [CallChange] = []
    /// The pre-call data entries this write applied, to delete with it (SPEC 2.9: consumed once).
    private(set) var consumedPreCall: [Int64] = []
    /// `changes` as change log rows, when they were written out before the write's turn on the
    /// writer (`withChangeRowsWritten`); nil to write them there.
    private(set) var changeRows: [ChangeRow]? = nil

    var isEmpty: Bool { upserts.isEmpty && remembered.isEmpty && changes.isEmpty && consumedPreCall.isEmpty }

    /// This write with its change log rows written out now: a PUT worked out before its turn does it
    /// there, off the writer queue every write waits for.
    func withChangeRowsWritten() -> CallWrite {
        var write = self
        write.changeRows = changes.map(ChangeRow.init)
        return write
    }

    /// Folds a batch of events, in order, into their outcomes and one write. `calls` holds the
    /// batch's stored calls and `seen` their remembered events, both read under the calls' locks.
    static func fold(
        _ events: [CallEvent], calls stored: [String: CallRecord], seen storedSeen: Set<EventIdentity>,
        receivedAt: Timestamp, preCall: PreCallCandidates = PreCallCandidates()
    ) -> (outcomes: [CallLifecycle.Outcome], write: CallWrite) {
        var calls = stored
        var seen = storedSeen
        var write = CallWrite()
        var preCall = preCall
        var touched: [String] = []
        var touchedOnce: Set<String> = []
        var outcomes: [CallLifecycle.Outcome] = []
        outcomes.reserveCapacity(events.count)
        for event in events {
            let before = calls[event.transactionID]
            var outcome = CallLifecycle.apply(
                event, to: before, alreadySeen: seen.contains(event.identity), receivedAt: receivedAt)
            // SPEC 2.9: a bridge that brings a call in takes its pending pre-call data in the same step.
            if case .applied(let bridged) = outcome, event.kind == .bridged, bridged.isLive, before?.isLive != true,
                let taken = preCall.take(for: bridged, at: receivedAt)
            {
                outcome = .applied(taken.1)
                write.consumedPreCall.append(taken.0)
            }
            switch outcome {
            case .applied(let record):
                if before != record {
                    if touchedOnce.insert(record.transactionID).inserted { touched.append(record.transactionID) }
                    calls[record.transactionID] = record
                }
                if let change = CallChange.made(from: before, to: record) { write.changes.append(change) }
                fallthrough
            case .ignored:
                seen.insert(event.identity)
                write.remembered.append(event.identity)
            case .duplicate, .rejected:
                break
            }
            outcomes.append(outcome)
        }
        write.upserts = touched.map { calls[$0]! }
        write.stored = touched.map { stored[$0] }
        return (outcomes, write)
    }

    /// A feed request's events: `parse` turns the request into events knowing each named call's
    /// stored network (its own errors pass through as `CallerError`).
    static func parse<Parsed>(
        calls stored: [String: CallRecord], _ parse: ([String: Int64]) throws -> (Parsed, [CallEvent])
    ) throws -> (Parsed, [CallEvent]) {
        try CallerError.wrapping { try parse(stored.mapValues(\.networkID)) }
    }

    /// The callers whose pending pre-call data the bridges among `events` may take.
    static func bridgedCallers(_ events: [CallEvent]) -> [String] {
        Set(events.filter { $0.kind == .bridged }.compactMap(\.callingPhoneNumber)).sorted()
    }

    /// The write of a PUT's update (SPEC 2.4), or nil when it changes nothing. Its `If-Match` is
    /// checked here, on the call as read under its lock, so no other write comes between (SPEC 2.7).
    static func update(_ record: CallRecord, with update: CallUpdate) throws -> (CallRecord, CallWrite?) {
        if let precondition = update.precondition, !precondition.allows(record) {
            throw DomainError.preconditionFailed(etag: record.etag)
        }
        let (updated, changed) = update.applied(to: record)
        guard !changed.isEmpty else { return (record, nil) }
        let change = CallChange(kind: .updated, changed: changed, call: updated)
        return (updated, CallWrite(upserts: [updated], stored: [record], changes: [change]))
    }

    /// The write that carries an advertiser's rename onto its live `calls` (see `AdvertiserRename`):
    /// each call it touches gets a new version and a `call_updated` change.
    static func rename(_ rename: AdvertiserRename, of calls: [CallRecord]) -> CallWrite {
        var write = CallWrite()
        for record in calls {
            guard let renamed = rename.applied(to: record)?.versioned(after: record),
                let change = CallChange.made(from: record, to: renamed)
            else { continue }
            write.upserts.append(renamed)
            write.stored.append(record)
            write.changes.append(change)
        }
        return write
    }

    /// The write that ends `silent` calls as expired at `now` (SPEC 4).
    static func expiry(of silent: [CallRecord], now: Timestamp) -> CallWrite {
        var write = CallWrite()
        for record in silent where record.isLive {
            let expired = CallLifecycle.expire(record, now: now)
            write.upserts.append(expired)
            write.stored.append(record)
            if let change = CallChange.made(from: record, to: expired) { write.changes.append(change) }
        }
        return write
    }
}

/// The pending pre-call data a write may apply, read under the write's locks, with the external ids
/// live calls already hold among those the entries would set (SPEC 2.9).
struct PreCallCandidates: Sendable {
    private var entries: [PreCallEntry]
    private var takenExternalIDs: [Int64: Set<String>]

    init(entries: [PreCallEntry] = [], takenExternalIDs: [Int64: Set<String>] = [:]) {
        self.entries = entries
        self.takenExternalIDs = takenExternalIDs
    }

    /// Per network, the external ids the entries would set: what the backend checks against live calls.
    var externalIDsByNetwork: [Int64: [String]] {
        Dictionary(grouping: entries.map(\.data).filter { $0.externalUniqueID != nil }, by: \.networkID).mapValues {
            Array(Set($0.compactMap(\.externalUniqueID))).sorted()
        }
    }

    /// The most recently written entry for `call`, applied to it and no longer offered: its custom data
    /// with source `PreCallAPI`, and its external id unless a live call of the network has it.
    mutating func take(for call: CallRecord, at now: Timestamp) -> (Int64, CallRecord)? {
        guard let entry = entries.filter({ $0.data.matches(call, at: now) }).max(by: { $0.id < $1.id }) else {
            return nil
        }
        entries.removeAll { $0.id == entry.id }
        var applied = call
        applied.merge(entry.data.customData)
        if let externalID = entry.data.externalUniqueID, takenExternalIDs[call.networkID]?.contains(externalID) != true
        {
            applied.externalUniqueID = externalID
            takenExternalIDs[call.networkID, default: []].insert(externalID)
        }
        return (entry.id, applied)
    }
}
