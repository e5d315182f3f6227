import CIPDomain
import GRDB
import Logging

/// The one writer of an SQLite file's calls, made by `SQLiteDatabase.serve()` while it holds the
/// file's serving lock.
///
/// Live calls are also held in memory (`LiveCallIndex`), so finding them never waits for the
/// database; the file stays the durable record. Every write runs on GRDB's single writer queue,
/// where the index is updated at commit, in commit order.
public final class SQLiteCallStore: ServingStore, DatabaseForwarding {
    public let database: SQLiteDatabase
    public var webhookTable: WebhookTable { database.webhookTable }
    private let servingLock: ServingLock
    private let live = LiveCallIndex()
    public let changeBell = ChangeBell()
    private let writes: SQLiteWriteGroup

    init(database: SQLiteDatabase, servingLock: ServingLock) async throws {
        self.database = database
        self.servingLock = servingLock
        self.writes = SQLiteWriteGroup(database: database)
        let (live, bell, checkpoints) = (self.live, changeBell, writes.checkpoints)
        // On the writer queue, so the index can neither miss nor repeat a commit.
        try await database.write { db in
            checkpoints.install(on: db)
            let rows = SQLiteCallRows(db: db)
            let records = try rows.calls("SELECT \(CallColumns.names) FROM calls WHERE \(CallSQL.isLive)", [])
            let latest = try rows.bounds().latest
            live.load(records.lazy.filter(\.isLive).map { LiveCall($0) }, sequence: latest)
            bell.knowHead(latest)
        }
        database.logger.info("live calls loaded into memory", metadata: ["calls": "\(live.count)"])
    }

    /// Closes the file and lets another server serve it; the store cannot be used afterwards.
    public func close() throws {
        servingLock.release()
        try database.close()
    }

    /// The index finds the calls; their whole records are read from the file (memory holds only what
    /// answers a request).
    public func currentCalls(_ query: CallQuery) async throws -> [CallRecord] {
        let ids = live.calls(matching: query).map(\.transactionID)
        guard !ids.isEmpty else { return [] }
        let records = try await database.read { db in try SQLiteCallRows(db: db).calls(ids) }
        return ids.compactMap { records[$0] }.filter(query.matches)
    }

    public func currentCallObjects(_ query: CallQuery) async throws -> [CallObjectJSON] {
        live.calls(matching: query).map(\.object)
    }

    public func currentCallListing(_ query: CallQuery, rememberingETag: Bool) async throws -> CallListing {
        live.listing(matching: query, rememberingETag: rememberingETag)
    }

    public func knownListingETag(_ query: CallQuery) -> String? {
        live.knownETag(query)
    }

    public func liveCallCount() async throws -> Int {
        live.count
    }

    public func apply<Parsed: Sendable>(
        naming transactionIDs: [String], receivedAt: Timestamp,
        _ parse: @escaping @Sendable ([String: Int64]) throws -> (Parsed, [CallEvent])
    ) async throws -> (Parsed, [CallLifecycle.Outcome]) {
        let ids = Set(transactionIDs).sorted()
        return try await CallerError.unwrapping {
            try await commit { rows in
                let stored = try rows.calls(ids)
                let (parsed, events) = try CallWrite.parse(calls: stored, parse)
                let (outcomes, write) = CallWrite.fold(
                    events, calls: stored, seen: try rows.seenEvents(among: events.map(\.identity)),
                    receivedAt: receivedAt,
                    preCall: try rows.preCallCandidates(for: events, now: receivedAt))
                return ((parsed, outcomes), write, receivedAt)
            }
        }
    }

    public func updateCall(
        _ selector: CallSelector, in scope: CallScope, _ update: CallUpdate
    ) async throws
        -> CallRecord
    {
        try await self.update(selector, in: scope, update).record
    }

    public func updateCallObject(
        _ selector: CallSelector, in scope: CallScope, _ update: CallUpdate
    ) async throws -> UpdatedCall {
        let (record, object) = try await self.update(selector, in: scope, update)
        return object.map { UpdatedCall(etag: record.etag, object: $0) } ?? UpdatedCall(record)
    }

    /// The call after `update`, with its call object when it is already written: memory's for a
    /// no-op, the change record's for a PUT worked out before its turn on the writer.
    private func update(
        _ selector: CallSelector, in scope: CallScope, _ update: CallUpdate
    ) async throws -> (record: CallRecord, object: CallObjectJSON?) {
        let live = self.live
        // The update is worked out from the call's object before the write starts, off the writer
        // queue that every write waits for; inside, it is used if the index still holds that object.
        let prepared = live.call(selector, in: scope).flatMap { call -> PreparedUpdate? in
            guard let record = call.record() else { return nil }
            return PreparedUpdate(update, to: call, record: record, selector: selector, scope: scope)?
                .withChangeRowsWritten()
        }
        // A PUT that changes nothing is answered here: the index holds every acknowledged write.
        if let prepared, prepared.write == nil { return (prepared.updated, prepared.call.object) }
        return try await commit { rows in
            // On the writer queue the index holds every committed write, so it is as good as a read;
            // but not yet the writes of this one's group, which must commit before it can read the call.
            guard let call = live.call(selector, in: scope) else { throw DomainError.notFound }
            if rows.group?.written.contains(call.transactionID) == true { throw GroupConflict() }
            if let prepared, prepared.call === call, let write = prepared.write {
                let object = write.changeRows?.first.map { CallObjectJSON(json: Array($0.call.utf8)) }
                return ((prepared.updated, object), write, Timestamp.now())
            }
            guard let record = try call.record() ?? rows.calls([call.transactionID])[call.transactionID],
                selector.matches(record, in: scope)
            else { throw DomainError.notFound }
            let (updated, write) = try CallWrite.update(record, with: update)
            return ((updated, nil), write ?? CallWrite(), Timestamp.now())
        }
    }

    public func followRename(_ rename: AdvertiserRename) async throws -> Int {
        try await commit { rows in
            let (sql, values) = CallSQL.liveOfAdvertiser(.sqlite, rename.after.id)
            let write = CallWrite.rename(rename, of: try rows.calls(sql, values))
            return (write.upserts.count, write, Timestamp.now())
        }
    }

    public func expireCalls(silentSince cutoff: Timestamp, now: Timestamp) async throws -> Int {
        try await commit { rows in
            let (sql, values) = CallSQL.expiring(.sqlite, cutoff: cutoff)
            let write = CallWrite.expiry(of: try rows.calls(sql, values), now: now)
            return (write.upserts.count, write, now)
        }
    }

    public func purgeCompletedCalls(endedBefore cutoff: Timestamp) async throws -> Int {
        try await purgeInBatches {
            try await self.database.write { db in try SQLiteCallRows(db: db).deleteEndedCalls(receivedBefore: cutoff) }
        }
    }

    public func purgeChanges(committedBefore cutoff: Timestamp) async throws -> Int {
        try await purgeInBatches {
            try await self.database.write { db in try SQLiteCallRows(db: db).deleteChanges(committedBefore: cutoff) }
        }
    }

    public func snapshot(_ scope: CallScope) async throws -> ChangeSnapshot {
        live.snapshot(scope)
    }

    public func claimMaintenanceRound(job: String, now: Timestamp, every interval: Duration) async throws -> Bool {
        try await database.write { db in
            let lastRun =
                try Int64.fetchOne(
                    db, sql: "SELECT last_run_at FROM maintenance_rounds WHERE job = ?", arguments: [job]) ?? 0
            guard now.milliseconds - lastRun >= interval.wholeMilliseconds else { return false }
            try db.execute(
                sql: """
                    INSERT INTO maintenance_rounds (job, last_run_at) VALUES (?, ?)
                    ON CONFLICT (job) DO UPDATE SET last_run_at = excluded.last_run_at
                    """,
                arguments: [job, now.milliseconds])
            return true
        }
    }

    /// Runs `decide` and writes what it returns in a transaction on the writer queue, with the
    /// other writes waiting at the time (`SQLiteWriteGroup`); the index learns the new states once
    /// the transaction commits.
    private func commit<T: Sendable>(
        _ decide: @escaping @Sendable (SQLiteCallRows) throws -> (T, CallWrite, Timestamp)
    ) async throws -> T {
        let (live, bell) = (self.live, changeBell)
        return try await writes.write { rows in
            let (result, write, committedAt) = try decide(rows)
            guard !write.isEmpty else { return GroupedResult(value: result, afterCommit: nil) }
            let (sequence, objects) = try rows.apply(write, committedAt: committedAt)
            let (upserts, changed) = (write.upserts, !write.changes.isEmpty)
            rows.group?.written.formUnion(upserts.lazy.map(\.transactionID))
            return GroupedResult(value: result) {
                live.commit(upserts, written: objects, sequence: sequence)
                if changed { bell.ring(through: sequence) }
            }
        }
    }
}
