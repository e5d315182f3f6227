import CIPDomain
import Logging
import PostgresNIO
import ServiceLifecycle

/// Calls in progress on PostgreSQL, written by any number of nodes at once: every write of a call
/// takes the call's lock first (`PostgresCallRows.lockedCalls`), and the change records it writes are
/// numbered after commit by the `ChangeSequencer`, which runs beside it as a service; with memory
/// reads a write is acknowledged once numbered.
///
/// With `readsFromMemory`, reads are answered from this node's memory (`LiveCallFollower`): at once
/// while the node holds a read lease (`ReadLease`: a write is acknowledged only once every leased node
/// has applied it), otherwise after a `ReadBarrier` has made sure the node holds every write
/// acknowledged before the read began, on any node; without it, from the database.
public final class PostgresCallStore: ServingStore, DatabaseForwarding {
    public let database: PostgresDatabase
    public var webhookTable: WebhookTable { database.webhookTable }
    public let sequencer: ChangeSequencer
    /// Rings the change bell when another node numbers changes.
    public let listener: ChangeListener
    public let follower: LiveCallFollower
    /// This node's lease to read from memory without the barrier.
    public let lease: ReadLease
    public let changeBell = ChangeBell()
    let barrier: ReadBarrier<Int64>
    /// The log's head and the leases held, learned after a no-op PUT was decided from memory.
    let leaseChecks: ReadBarrier<LeaseCheck>
    /// One write per call at a time on this node waits for a pooled connection. Concurrent PUTs of
    /// one call queue for its row lock in the database; each would hold one of the pool's connections
    /// while it waits, so a burst on one hot call (or a hostile client's) could take every
    /// connection, and every other request would wait for one until its deadline and be answered
    /// 503. Here they wait in memory instead, and the call holds at most one connection of this node.
    let callGates = SerialGates()
    /// How long a read waits for this node's memory to catch up before it is answered as an outage.
    static let readDeadline = Duration.seconds(10)

    private let background = BackgroundTasks()

    /// Whether reads are answered from this node's memory (what `cip serve` does unless
    /// `--no-postgres-memory-reads`); from the database otherwise (`cip admin`, which reads once and
    /// ends). docs/DECISIONS.md, "PostgreSQL".
    public let readsFromMemory: Bool
    /// Whether this node reads under a lease: only where writes wait for lease holders before they
    /// are acknowledged (`ChangeSequencer.numbered`) — not with manual numbering, where a write is
    /// acknowledged at commit.
    let readsUnderLease: Bool

    /// With `manualNumbering` (for tests that hold numbering back on purpose), no sequencer runs
    /// beside the store: a write is acknowledged at commit, and is read once a `stampRound()` numbers it.
    public convenience init(database: PostgresDatabase, manualNumbering: Bool = false, readsFromMemory: Bool = false) {
        self.init(
            database: database, manualNumbering: manualNumbering, readsFromMemory: readsFromMemory, leaseTerms: .init())
    }

    /// With the lease's terms of a test on a loaded machine.
    init(database: PostgresDatabase, manualNumbering: Bool, readsFromMemory: Bool, leaseTerms: ReadLease.Terms) {
        self.database = database
        self.readsFromMemory = readsFromMemory
        self.readsUnderLease = readsFromMemory && !manualNumbering
        self.sequencer = ChangeSequencer(
            database: database, bell: changeBell, isManual: manualNumbering, acknowledgesNumbered: readsFromMemory)
        self.listener = ChangeListener(database: database, bell: changeBell)
        self.follower = LiveCallFollower(database: database, bell: changeBell)
        self.lease = ReadLease(database: database, follower: follower, terms: leaseTerms)
        self.barrier = ReadBarrier { try await database.latestSequence() }
        self.leaseChecks = ReadBarrier { try await database.leaseCheck() }
    }

    /// The services that run beside the store: the pool, the sequencer, the listener, the follower
    /// and the read lease.
    public var services: [any Service] {
        [database, sequencer, listener] + (readsFromMemory ? [follower] : []) + (readsUnderLease ? [lease] : [])
    }

    /// Runs the pool, the sequencer, the listener and the follower in tasks of their own until this
    /// store is released, for a caller that has no `ServiceGroup` (tests, `cip admin`).
    public func runUntilReleased() {
        database.runPoolUntilReleased()
        let (sequencer, listener, follower, lease) = (self.sequencer, self.listener, self.follower, self.lease)
        if !sequencer.isManual { background.keep(Task { try? await sequencer.run() }) }
        background.keep(Task { await listener.run() })
        if readsFromMemory {
            background.keep(Task { await follower.run() })
        }
        if readsUnderLease { background.keep(Task { await lease.run() }) }
    }

    /// Succeeds when the database answers and this node's memory holds the live calls.
    public func ping() async throws {
        try await database.ping()
        guard follower.isLoaded || !readsFromMemory else { throw DomainError.unavailable }
    }

    /// The index finds the calls; their whole records are read from the database.
    public func currentCalls(_ query: CallQuery) async throws -> [CallRecord] {
        guard readsFromMemory else { return try await databaseCalls(query) }
        let ids = try await currentIndex().calls(matching: query).map(\.transactionID)
        guard !ids.isEmpty else { return [] }
        let records = try await database.guarded { connection, _ in
            try await PostgresCallRows(connection: connection, logger: self.database.logger).calls(ids)
        }
        return ids.compactMap { records[$0] }.filter(query.matches)
    }

    public func currentCallObjects(_ query: CallQuery) async throws -> [CallObjectJSON] {
        guard readsFromMemory else { return try await databaseCalls(query).map(CallObjectJSON.init) }
        return try await currentIndex().calls(matching: query).map(\.object)
    }

    public func currentCallListing(_ query: CallQuery, rememberingETag: Bool) async throws -> CallListing {
        guard readsFromMemory else { return CallListing(try await databaseCalls(query), page: query.page) }
        return try await currentIndex().listing(matching: query, rememberingETag: rememberingETag)
    }

    public func knownListingETag(_ query: CallQuery) async throws -> String? {
        guard readsFromMemory else { return nil }
        return try await currentIndex().knownETag(query)
    }

    /// The live calls `query` selects, read from the database (SPEC 2.2's order; a page reads one
    /// call past its limit).
    private func databaseCalls(_ query: CallQuery) async throws -> [CallRecord] {
        if let transactionID = query.transactionID {
            // The primary key, through the write path's prepared statement: one plan, which the
            // planner cannot trade for a scan while the table's statistics lag a burst of writes.
            return try await database.guarded { connection, _ in
                try await PostgresCallRows(connection: connection, logger: self.database.logger).calls([transactionID])
                    .values.filter(query.matches)
            }
        }
        let (sql, values) = CallSQL.current(.postgres, query)
        return try await database.guarded { connection, _ in
            try await PostgresCallRows(connection: connection, logger: self.database.logger).calls(sql, values)
        }
    }

    public func liveCallCount() async throws -> Int {
        try await database.guarded { connection, _ in
            let rows = try await connection.rows(
                "SELECT count(*) AS live FROM calls WHERE \(CallSQL.isLive)", [], self.database.logger)
            return Int(try rows.first?.requiredInteger("live") ?? 0)
        }
    }

    public func apply<Parsed: Sendable>(
        naming transactionIDs: [String], receivedAt: Timestamp,
        _ parse: @escaping @Sendable ([String: Int64]) throws -> (Parsed, [CallEvent])
    ) async throws -> (Parsed, [CallLifecycle.Outcome]) {
        let ids = Set(transactionIDs).sorted()
        return try await CallerError.unwrapping {
            try await commit { rows in
                let stored = try await rows.lockedCalls(ids)
                let (parsed, events) = try CallWrite.parse(calls: stored, parse)
                let (outcomes, write) = CallWrite.fold(
                    events, calls: stored, seen: try await rows.seenEvents(among: events.map(\.identity)),
                    receivedAt: receivedAt,
                    preCall: try await rows.preCallCandidates(for: events, now: receivedAt))
                return ((parsed, outcomes), write, receivedAt)
            }
        }
    }

    public func updateCall(
        _ selector: CallSelector, in scope: CallScope, _ update: CallUpdate
    ) async throws
        -> CallRecord
    {
        let (sql, values) = CallSQL.selected(.postgres, selector, in: scope)
        // A call named only by external id is keyed by its network and that id (a space keeps the key
        // apart from every transaction id).
        let gate =
            selector.transactionID
            ?? "\(scope.organization.networkID) \(selector.externalUniqueID ?? "")"
        return try await commit(gatedBy: gate) { rows in
            // Take the call's lock before reading it; a call named only by external id is found
            // first, then read again under the lock (it may have changed before).
            var transactionID = selector.transactionID
            if transactionID == nil {
                transactionID = try await rows.calls(sql, values).first(where: scope.contains)?.transactionID
            }
            guard let transactionID else { throw DomainError.notFound }
            guard let record = try await rows.lockedCalls([transactionID])[transactionID],
                selector.matches(record, in: scope)
            else { throw DomainError.notFound }
            let (updated, write) = try CallWrite.update(record, with: update)
            return (updated, write ?? CallWrite(), Timestamp.now())
        }
    }

    public func followRename(_ rename: AdvertiserRename) async throws -> Int {
        let (sql, values) = CallSQL.liveOfAdvertiser(.postgres, rename.after.id)
        return try await commit { rows in
            let candidates = try await rows.calls(sql, values).compactMap { rename.applied(to: $0)?.transactionID }
            // Under the locks, read again: a call may have changed (or ended) meanwhile.
            let locked = try await rows.lockedCalls(candidates).values.sorted { $0.transactionID < $1.transactionID }
            let write = CallWrite.rename(rename, of: locked)
            return (write.upserts.count, write, Timestamp.now())
        }
    }

    public func expireCalls(silentSince cutoff: Timestamp, now: Timestamp) async throws -> Int {
        let (sql, values) = CallSQL.expiring(.postgres, cutoff: cutoff)
        return try await commit { rows in
            let candidates = try await rows.calls(sql, values).map(\.transactionID)
            _ = try await rows.lockedCalls(candidates)
            // Under the locks: a call that received an event meanwhile is no longer silent.
            let silent = try await rows.calls(sql, values)
            let write = CallWrite.expiry(of: silent, now: now)
            return (write.upserts.count, write, now)
        }
    }

    public func purgeCompletedCalls(endedBefore cutoff: Timestamp) async throws -> Int {
        try await inBatches { rows in try await rows.deleteEndedCalls(receivedBefore: cutoff) }
    }

    public func purgeChanges(committedBefore cutoff: Timestamp) async throws -> Int {
        try await inBatches { rows in try await rows.deleteChanges(committedBefore: cutoff) }
    }

    public func snapshot(_ scope: CallScope) async throws -> ChangeSnapshot {
        guard readsFromMemory else {
            let (sequence, calls) = try await database.guarded { connection, _ in
                try await PostgresSnapshot(connection: connection, logger: self.database.logger).take(scope)
            }
            return ChangeSnapshot(
                sequence: sequence,
                calls: calls.sorted(by: LiveCall.listedBefore).map(\.object))
        }
        return try await currentIndex(everyChange: true).snapshot(scope)
    }

    public func claimMaintenanceRound(job: String, now: Timestamp, every interval: Duration) async throws -> Bool {
        try await database.transaction { connection, logger in
            try await connection.query(
                "INSERT INTO maintenance_rounds (job, last_run_at) VALUES (\(job), 0) ON CONFLICT DO NOTHING",
                logger: logger)
            // SKIP LOCKED: a node that finds another node mid-round leaves the round to it.
            let rows = try await connection.query(
                "SELECT last_run_at FROM maintenance_rounds WHERE job = \(job) FOR UPDATE SKIP LOCKED", logger: logger)
            var lastRun: Int64?
            for try await value in rows.decode(Int64.self) { lastRun = value }
            guard let lastRun, now.milliseconds - lastRun >= interval.wholeMilliseconds else { return false }
            try await connection.query(
                "UPDATE maintenance_rounds SET last_run_at = \(now.milliseconds) WHERE job = \(job)", logger: logger)
            return true
        }
    }

    /// Runs `decide` and writes what it returns in one transaction; once it commits with changes,
    /// this node's sequencer is woken to number them. With `gate` (a call's key), the transaction
    /// waits for this node's other writes of that key (`callGates`).
    private func commit<T: Sendable>(
        gatedBy gate: String? = nil,
        _ decide: @escaping @Sendable (PostgresCallRows) async throws -> (T, CallWrite, Timestamp)
    ) async throws -> T {
        let database = self.database
        let transaction: @Sendable () async throws -> (T, Bool) = {
            try await database.transaction { connection, logger in
                let rows = PostgresCallRows(connection: connection, logger: logger)
                let (result, write, committedAt) = try await decide(rows)
                if !write.isEmpty { try await rows.apply(write, committedAt: committedAt) }
                return (result, !write.changes.isEmpty)
            }
        }
        let (result, changed): (T, Bool)
        if let gate {
            (result, changed) = try await callGates.run(gate, transaction)
        } else {
            (result, changed) = try await transaction()
        }
        // Acknowledged once numbered (a read through any node then finds it: `ReadBarrier`), and
        // applied by every node that reads under a lease.
        if let check = try await sequencer.numbered(afterChanges: changed) { await leaseHoldersApplied(check) }
        return result
    }

    private func inBatches(_ batch: @escaping @Sendable (PostgresCallRows) async throws -> Int) async throws -> Int {
        try await purgeInBatches {
            try await self.database.transaction { connection, logger in
                try await batch(PostgresCallRows(connection: connection, logger: logger))
            }
        }
    }
}
