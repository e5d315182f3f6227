import CIPDomain

/// What this node's memory may answer, and when (docs/DECISIONS.md, "PostgreSQL"): a read at once
/// under the node's read lease, otherwise after the read barrier; a PUT that changes nothing under the
/// lease too, once every leased node has applied what memory held.
extension PostgresCallStore {
    /// This node's index, once it holds every write acknowledged before the call. With `everyChange`,
    /// once it holds every change numbered before the call too, acknowledged or not (a stream that has
    /// seen a change wants a snapshot that has it): through the barrier, whatever the lease.
    func currentIndex(everyChange: Bool = false) async throws -> LiveCallIndex {
        if !everyChange, memoryHoldsEveryAcknowledgedWrite() { return follower.index }
        let head = try await barrier.fresh()
        try await follower.waitUntilApplied(head, timeout: Self.readDeadline)
        return follower.index
    }

    /// Whether this node's memory holds every write acknowledged through any node, without asking
    /// the database: while it holds its lease.
    func memoryHoldsEveryAcknowledgedWrite() -> Bool {
        readsUnderLease && lease.allowsRead()
    }

    /// A PUT that changes nothing (a retry, a value set again; SPEC 2.4) is answered from memory while
    /// this node holds its read lease, as SQLite's index answers it (`PreparedUpdate`): no transaction,
    /// no lock. Memory then holds every acknowledged write, but may also hold a change numbered and
    /// not yet acknowledged, which another leased node may not have applied yet: answered at once, the
    /// client's next GET through that node could miss the value its retry was told is in place. So the
    /// answer waits as a write's does, until every node the database shows leased after the decision
    /// has applied the log's head (a lease check, shared by the no-ops in flight).
    public func updateCallObject(
        _ selector: CallSelector, in scope: CallScope, _ update: CallUpdate
    ) async throws -> UpdatedCall {
        if memoryHoldsEveryAcknowledgedWrite(), let call = follower.index.call(selector, in: scope),
            let record = call.recordDecidingUpdates(),
            let unchanged = PreparedUpdate(update, to: call, record: record, selector: selector, scope: scope)?
                .unchanged
        {
            await leaseHoldersApplied(try await leaseChecks.fresh())
            return unchanged
        }
        return UpdatedCall(try await updateCall(selector, in: scope, update))
    }

    /// Returns once every node that `check` found leased has applied its head, or its lease has ended.
    func leaseHoldersApplied(_ check: LeaseCheck) async {
        for holder in check.holders {
            let waited = ContinuousClock.now - check.checkedAt
            guard waited < holder.remaining else { continue }
            let progress = holder.node == lease.node ? follower.applied : listener.peers.progress(of: holder.node)
            _ = await progress.wait(for: check.head, timeout: holder.remaining - waited)
        }
    }
}
