import GRDB
import Synchronization

/// Group commit: the writes of calls that arrive while a transaction commits wait for it, then
/// commit together in the next one — one append to the WAL, one fsync and one hop to GRDB's writer
/// for all of them, where each used to pay its own (a durable PUT spent most of its time there).
///
/// Each write runs in a savepoint of its own, in arrival order, and sees the writes before it in
/// its group; one that fails (404, 409, a rejected batch) is rolled back alone and answered at once.
/// The others are answered only once the transaction holding them has committed, after their
/// `afterCommit` actions ran in order (the index learns each commit before anyone hears of it).
/// A database fault abandons the group's transaction: none of its writes happened, and each is
/// answered with the fault.
final class SQLiteWriteGroup: Sendable {
    private let database: SQLiteDatabase
    let checkpoints = WALCheckpoints()
    private let queue = Mutex<Queue>(Queue())
    /// How many groups commit in one visit to the writer queue before other writes (purges, the
    /// catalog) get their turn.
    private static let groupsPerVisit = 64

    private struct Queue {
        var waiting: [any GroupedWrite] = []
        var committing = false
    }

    init(database: SQLiteDatabase) {
        self.database = database
    }

    /// Runs `work` in the next group's transaction and returns its value once that has committed.
    /// `work` may throw `GroupConflict` to be run again at the head of the next group.
    func write<T: Sendable>(_ work: @escaping @Sendable (SQLiteCallRows) throws -> GroupedResult<T>) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let member = PendingWrite(work: work, continuation: continuation)
            let leads = queue.withLock { queue in
                queue.waiting.append(member)
                defer { queue.committing = true }
                return !queue.committing
            }
            if leads { visitWriter() }
        }
    }

    /// Commits groups on the writer queue itself until none waits: no hop to another thread
    /// between one group's commit and the next group's start.
    private func visitWriter() {
        database.pool.asyncWriteWithoutTransaction { db in
            for _ in 0..<Self.groupsPerVisit {
                let group = self.queue.withLock { queue -> [any GroupedWrite] in
                    defer { queue.waiting = [] }
                    if queue.waiting.isEmpty { queue.committing = false }
                    return queue.waiting
                }
                guard !group.isEmpty else { return }
                let deferred = self.checkpoints.afterGroup(db) { self.commit(group, db) }
                if !deferred.isEmpty { self.queue.withLock { $0.waiting.insert(contentsOf: deferred, at: 0) } }
            }
            self.visitWriter()
        }
    }

    /// Commits `group` in one transaction; returns the writes that must wait for the next one.
    private func commit(_ group: [any GroupedWrite], _ db: Database) -> [any GroupedWrite] {
        do {
            var deferred: [any GroupedWrite] = []
            try db.inTransaction(.immediate) {
                let rows = SQLiteCallRows(db: db, group: GroupTransaction())
                for member in group {
                    if try !member.run(rows) { deferred.append(member) }
                }
                try rows.storeGroupSequence()
                return .commit
            }
            // Committed: the index learns each write in order, then each is answered.
            for member in group { member.committed() }
            return deferred
        } catch {
            for member in group { member.abandoned(SQLiteErrors.classify(error)) }
            return []
        }
    }
}

/// What a grouped write returns: its value, and what must happen once its transaction commits.
struct GroupedResult<T: Sendable>: Sendable {
    let value: T
    let afterCommit: (@Sendable () -> Void)?
}

/// Thrown by a grouped write that read something an earlier write of its group changed without
/// the index knowing yet: it runs again at the head of the next group.
struct GroupConflict: Error {}

/// The transaction a group of writes shares: what its writes have written so far.
final class GroupTransaction {
    /// The calls written by the group's writes so far.
    var written: Set<String> = []
    /// The change log's last sequence number as the group's writes have taken them so far; nil until
    /// one takes a number (`SQLiteCallRows.numbered`).
    var lastSequence: Int64?
}

private protocol GroupedWrite: Sendable {
    /// Runs the write in a savepoint of `rows`' transaction; false when it must wait for the next
    /// group. Throws only a database fault, which abandons the transaction.
    func run(_ rows: SQLiteCallRows) throws -> Bool
    /// The transaction committed: runs what follows the write and answers it.
    func committed()
    /// The transaction did not commit: answers with `error`, unless the write already failed alone.
    func abandoned(_ error: any Error)
}

private final class PendingWrite<T: Sendable>: GroupedWrite {
    private let work: @Sendable (SQLiteCallRows) throws -> GroupedResult<T>
    private let continuation: CheckedContinuation<T, any Error>
    /// Set on the writer queue by `run`, read there by `committed`, or after the transaction by
    /// `abandoned`.
    private let outcome = Mutex<GroupedResult<T>?>(nil)
    private let answered = Atomic<Bool>(false)

    init(
        work: @escaping @Sendable (SQLiteCallRows) throws -> GroupedResult<T>,
        continuation: CheckedContinuation<T, any Error>
    ) {
        self.work = work
        self.continuation = continuation
    }

    func run(_ rows: SQLiteCallRows) throws -> Bool {
        try rows.beginSavepoint()
        let sequenceBefore = rows.group?.lastSequence
        do {
            let result = try work(rows)
            try rows.releaseSavepoint()
            outcome.withLock { $0 = result }
            return true
        } catch let error as DatabaseError {
            throw error
        } catch {
            try rows.rollBackSavepoint()
            rows.group?.lastSequence = sequenceBefore
            if error is GroupConflict { return false }
            answer(.failure(SQLiteErrors.classify(error)))
            return true
        }
    }

    func committed() {
        guard let result = outcome.withLock({ $0 }) else { return }
        result.afterCommit?()
        answer(.success(result.value))
    }

    func abandoned(_ error: any Error) {
        answer(.failure(error))
    }

    private func answer(_ result: Result<T, any Error>) {
        guard !answered.exchange(true, ordering: .acquiringAndReleasing) else { return }
        continuation.resume(with: result)
    }
}
