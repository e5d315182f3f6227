import CIPDomain
import GRDB

/// The SQLite write path's row primitives, inside one write transaction. They read and write rows;
/// what to write is decided by `CallWrite`.
struct SQLiteCallRows {
    let db: Database
    /// The group of writes whose transaction this is, when the write is one of a group.
    var group: GroupTransaction? = nil

    // A grouped write's savepoint: cached statements, as each write of the group pays for them.

    func beginSavepoint() throws {
        try db.cachedStatement(sql: "SAVEPOINT grouped_write").execute()
    }

    func releaseSavepoint() throws {
        try db.cachedStatement(sql: "RELEASE SAVEPOINT grouped_write").execute()
    }

    func rollBackSavepoint() throws {
        try db.cachedStatement(sql: "ROLLBACK TO SAVEPOINT grouped_write").execute()
        try releaseSavepoint()
    }

    /// The stored calls among `transactionIDs`, live or ended.
    func calls(_ transactionIDs: [String]) throws -> [String: CallRecord] {
        let statement = try db.cachedStatement(
            sql: "SELECT \(CallColumns.names) FROM calls WHERE transaction_id IN (SELECT value FROM json_each(?))")
        var calls: [String: CallRecord] = [:]
        let cursor = try Row.fetchCursor(statement, arguments: [Self.jsonList(transactionIDs)])
        while let row = try cursor.next() {
            let record = try CallColumns.decode(row)
            calls[record.transactionID] = record
        }
        return calls
    }

    /// `seenEvents`' statement, over a JSON list of `[transaction id, event, time]`
    /// (`DuplicateCheckPlanTests` checks its plan).
    static let seenEventsSQL = """
        SELECT transaction_id, event, occurred_at FROM json_each(?) AS asked
        JOIN call_events ON transaction_id = json_extract(asked.value, '$[0]')
            AND event = json_extract(asked.value, '$[1]') AND occurred_at = json_extract(asked.value, '$[2]')
        """

    /// Which of `events` are remembered: looked up one by one by the table's key, not by reading every
    /// event of their calls (a long call's feed would read its whole history with each batch).
    func seenEvents(among events: [EventIdentity]) throws -> Set<EventIdentity> {
        guard !events.isEmpty else { return [] }
        let statement = try db.cachedStatement(sql: Self.seenEventsSQL)
        var seen: Set<EventIdentity> = []
        let cursor = try Row.fetchCursor(statement, arguments: [Self.jsonIdentities(events)])
        while let row = try cursor.next() {
            let kindText = try row.requiredText("event")
            guard let kind = CallEventKind(rawValue: kindText) else { throw StoredRowError.invalid("event", kindText) }
            seen.insert(
                EventIdentity(
                    kind: kind, transactionID: try row.requiredText("transaction_id"),
                    occurredAt: Timestamp(milliseconds: try row.requiredInteger("occurred_at"))))
        }
        return seen
    }

    /// The rows of `sql`, as calls.
    func calls(_ sql: String, _ values: [StoredValue]) throws -> [CallRecord] {
        try Row.fetchAll(db, sql: sql, arguments: StatementArguments(values)).map(CallColumns.decode)
    }

    /// Writes `write` and returns the change log's last sequence number after it (0 when it numbered
    /// nothing), with the live call objects its change records hold, by transaction id (so that the
    /// index need not write them again). A second live call of a network with the same external id
    /// is `DomainError.externalIDTaken`.
    func apply(_ write: CallWrite, committedAt: Timestamp) throws -> (sequence: Int64, written: [String: WrittenObject])
    {
        let changes = write.changes
        let rows: [ChangeRow]
        if let written = write.changeRows {
            try writeCalls(of: write)
            rows = written
        } else if changes.count >= Self.changeRowsWrittenAside {
            // A batch's change records (a call object each) are written out on another core while this
            // one runs the batch's statements.
            (rows, _) = try ParallelWork.alongside({ changes.map(ChangeRow.init) }, { try writeCalls(of: write) })
        } else {
            try writeCalls(of: write)
            rows = changes.map(ChangeRow.init)
        }
        return try appendChanges(changes, rows, committedAt: committedAt)
    }

    /// Changes from which a write's change records are written on another thread: below, handing
    /// them over costs more than it saves.
    static let changeRowsWrittenAside = 64

    /// The calls' rows, the events remembered, the pre-call data consumed.
    private func writeCalls(of write: CallWrite) throws {
        let upsert = try db.cachedStatement(
            sql: """
                INSERT INTO calls (\(CallColumns.names))
                VALUES (\(Array(repeating: "?", count: CallColumns.all.count).joined(separator: ", ")))
                ON CONFLICT (transaction_id) DO UPDATE SET \(CallColumns.upsertAssignments)
                """)
        do {
            for (record, stored) in zip(write.upserts, write.stored) {
                if let stored {
                    try update(stored, to: record)
                } else {
                    try upsert.execute(values: CallColumns.values(of: record), in: db)
                }
            }
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
            throw DomainError.externalIDTaken
        }
        let remember = try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO call_events (transaction_id, event, occurred_at) VALUES (?, ?, ?)")
        for identity in write.remembered {
            try remember.execute(
                values: [
                    .text(identity.transactionID), .text(identity.kind.rawValue),
                    .integer(identity.occurredAt.milliseconds),
                ],
                in: db)
        }
        try consumePreCallData(write.consumedPreCall)
    }

    /// Writes only the columns of a stored call that changed: SQLite rewrites the entry of every
    /// index on a column an UPDATE sets, changed or not (a PUT's custom data would also move its
    /// call's entry in the index on `last_received_at`).
    private func update(_ stored: CallRecord, to record: CallRecord) throws {
        let changed = CallColumns.changed(from: stored, to: record)
        guard !changed.isEmpty else { return }
        let statement = try db.cachedStatement(
            sql: "UPDATE calls SET \(changed.map { "\($0.name) = ?" }.joined(separator: ", ")) WHERE transaction_id = ?"
        )
        var values = changed.map { $0.value(record) }
        values.append(.text(record.transactionID))
        try statement.execute(values: values, in: db)
    }

    /// Records `changes` under the next sequence numbers: the single writer commits in the order it
    /// numbers, so sequence order is commit order.
    private func appendChanges(
        _ changes: [CallChange], _ rows: [ChangeRow], committedAt: Timestamp
    ) throws -> (sequence: Int64, written: [String: WrittenObject]) {
        // A write of remembered events alone moves no number (the index keeps the highest it saw).
        guard !changes.isEmpty else { return (0, [:]) }
        let last = try numbered(changes.count)
        let insert = try db.cachedStatement(
            sql: "INSERT INTO call_changes (sequence, \(ChangeRow.columns)) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)")
        var sequence = last - Int64(changes.count)
        var written: [String: WrittenObject] = [:]
        written.reserveCapacity(changes.count)
        for (change, row) in zip(changes, rows) {
            sequence += 1
            if change.kind != .ended {
                written[row.transactionID] = WrittenObject(version: change.call.version, json: row.call)
            }
            try insert.execute(
                values: [
                    .integer(sequence), .text(row.transactionID), .integer(row.networkID),
                    row.advertiserID.map(StoredValue.integer) ?? .null,
                    row.previousAdvertiserID.map(StoredValue.integer) ?? .null, .text(row.kind), .text(row.changed),
                    .text(row.call), .integer(committedAt.milliseconds),
                ], in: db)
        }
        return (last, written)
    }

    /// Takes the next `count` sequence numbers; returns the last. A group's writes number from the
    /// group's own count, read once and stored once before it commits (`storeGroupSequence`): one
    /// statement a write less, on the writer every write waits for.
    private func numbered(_ count: Int) throws -> Int64 {
        // Every write of calls runs in a group commit (`SQLiteCallStore.commit`); nothing else
        // would store the count.
        guard let group else { preconditionFailure("a write of calls outside a group commit") }
        let before = try group.lastSequence ?? lastSequence()
        group.lastSequence = before + Int64(count)
        return before + Int64(count)
    }

    private func lastSequence() throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT last_sequence FROM change_log")) ?? 0
    }

    /// Stores the numbers the group's writes took, in its transaction.
    func storeGroupSequence() throws {
        guard let last = group?.lastSequence else { return }
        try db.cachedStatement(sql: "UPDATE change_log SET last_sequence = ?").execute(arguments: [last])
    }

    /// Deletes up to `purgeBatchSize` ended calls received before `cutoff`, and their remembered events.
    func deleteEndedCalls(receivedBefore cutoff: Timestamp) throws -> Int {
        let (doomed, values) = CallSQL.purgeable(.sqlite, cutoff: cutoff, limit: purgeBatchSize)
        try db.execute(
            sql: "DELETE FROM call_events WHERE transaction_id IN (\(doomed))", arguments: StatementArguments(values))
        try db.execute(
            sql: "DELETE FROM calls WHERE transaction_id IN (\(doomed))", arguments: StatementArguments(values))
        return db.changesCount
    }

    /// Deletes up to `purgeBatchSize` changes committed before `cutoff`, oldest first.
    func deleteChanges(committedBefore cutoff: Timestamp) throws -> Int {
        let (sql, values) = ChangeRow.purge(.sqlite, committedBefore: cutoff)
        let deleted = try Int64.fetchAll(db, sql: sql, arguments: StatementArguments(values))
        if let highest = deleted.max() {
            try db.execute(
                sql: "UPDATE change_log SET purged_through = max(purged_through, ?)", arguments: [highest])
        }
        return deleted.count
    }

    func bounds() throws -> ChangeLogBounds {
        guard let row = try Row.fetchOne(db, sql: "SELECT purged_through, last_sequence FROM change_log") else {
            return ChangeLogBounds(purgedThrough: 0, latest: 0)
        }
        return ChangeLogBounds(
            purgedThrough: try row.requiredInteger("purged_through"), latest: try row.requiredInteger("last_sequence"))
    }

    private static func jsonList(_ texts: [String]) -> String {
        var writer = JSONWriter()
        writer.value(.array(texts.map(JSONValue.string)))
        return writer.text
    }

    /// `[[transaction id, event, occurred at], ...]`
    private static func jsonIdentities(_ events: [EventIdentity]) -> String {
        var writer = JSONWriter()
        writer.value(
            .array(
                events.map {
                    .array([.string($0.transactionID), .string($0.kind.rawValue), .integer($0.occurredAt.milliseconds)])
                }))
        return writer.text
    }
}
