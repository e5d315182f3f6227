import CIPDomain

/// A PUT's update worked out from the call object memory holds, before (or instead of) the write.
///
/// One that changes nothing (a retry, a value set again; SPEC 2.4) is answered from memory: while
/// memory holds every acknowledged write (SQLite's index; a PostgreSQL node under its read lease),
/// the call read there is a state it had while the request ran, and answering the no-op at that
/// point orders it before any write not yet acknowledged (on PostgreSQL once the other leased nodes
/// hold that state too: `PostgresCallStore.updateCallObject`). A failed `If-Match` is not answered
/// here: the write path checks it again. DECISIONS.md, "Calls and updates".
struct PreparedUpdate: Sendable {
    /// The call as memory held it.
    let call: LiveCall
    let updated: CallRecord
    /// nil when the update changes nothing.
    let write: CallWrite?

    /// `update` applied to `record`, memory's record of `call`; nil when `selector` does not select
    /// it or the update fails on it (the write path then decides, and answers the error).
    init?(_ update: CallUpdate, to call: LiveCall, record: CallRecord, selector: CallSelector, scope: CallScope) {
        guard selector.matches(record, in: scope), let (updated, write) = try? CallWrite.update(record, with: update)
        else { return nil }
        self.init(call: call, updated: updated, write: write)
    }

    private init(call: LiveCall, updated: CallRecord, write: CallWrite?) {
        self.call = call
        self.updated = updated
        self.write = write
    }

    /// The same update with its change rows' JSON already written (SQLite does it before the writer
    /// queue, which every write waits for).
    func withChangeRowsWritten() -> PreparedUpdate {
        PreparedUpdate(call: call, updated: updated, write: write?.withChangeRowsWritten())
    }

    /// The answer to an update that changes nothing: the call object as memory holds it.
    var unchanged: UpdatedCall? {
        write == nil ? UpdatedCall(etag: updated.etag, object: call.object) : nil
    }
}
