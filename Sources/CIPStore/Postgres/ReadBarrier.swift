import CIPDomain
import Synchronization

/// Makes a read from a node's memory see every write acknowledged before the read began, through
/// any node (SPEC 2.4's "later GETs show the new values at once").
///
/// A write is acknowledged only once the change log numbers it (`ChangeSequencer.numbered(afterChanges:)`), so
/// the log's head, learned after the read began, covers it; the read then waits until this node has
/// applied the log up to that head. Learning the head is one query, shared by every read that
/// arrives while it is in flight: those reads join the next query, never the one already sent
/// (it may have been answered before they began). So however many reads arrive, at most one head
/// query is in flight per node, and each read waits for at most two of them — the way Raft's
/// ReadIndex serves reads without a round trip each.
///
/// The same sharing serves any query whose answer must be learned after the caller asked: a no-op
/// PUT answered from memory shares its lease check this way (`PostgresCallStore`).
final class ReadBarrier<Value: Sendable>: Sendable {
    private struct State {
        var inFlight = false
        var next: [CheckedContinuation<Value, any Error>] = []
    }

    private let state = Mutex(State())
    private let query: @Sendable () async throws -> Value

    init(query: @escaping @Sendable () async throws -> Value) {
        self.query = query
    }

    /// The query's answer (the change log's head, for reads), from a query that started after this call.
    func fresh() async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            let starts = state.withLock { state -> Bool in
                state.next.append(continuation)
                guard !state.inFlight else { return false }
                state.inFlight = true
                return true
            }
            if starts { Task { await self.runQueries() } }
        }
    }

    /// Runs the query for each batch of waiting callers until none is left.
    private func runQueries() async {
        while true {
            let batch = state.withLock { state -> [CheckedContinuation<Value, any Error>]? in
                guard !state.next.isEmpty else {
                    state.inFlight = false
                    return nil
                }
                defer { state.next = [] }
                return state.next
            }
            guard let batch else { return }
            do {
                let answer = try await query()
                for read in batch { read.resume(returning: answer) }
            } catch {
                for read in batch { read.resume(throwing: error) }
            }
        }
    }
}
