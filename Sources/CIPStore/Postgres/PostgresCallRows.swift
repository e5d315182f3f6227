import CIPDomain
import Logging
import PostgresNIO

/// The PostgreSQL write path's row primitives, inside one transaction. They lock, read and write
/// rows; what to write is decided by `CallWrite`.
struct PostgresCallRows {
    let connection: PostgresConnection
    let logger: Logger

    /// Takes each call's lock for the rest of the transaction, in a fixed order so that two nodes'
    /// transactions cannot deadlock, then reads the stored calls among them, live or ended — one
    /// round trip (`cip_locked_calls`, migration v8, the one place the lock is spelled): the read
    /// sees every write of those calls committed before the locks were held. Every write of a call —
    /// event, update, rename, expiry — takes it first, so a call's changes apply one at a time across
    /// every node, and its change records are written in the order they happen.
    func lockedCalls(_ transactionIDs: [String]) async throws -> [String: CallRecord] {
        guard !transactionIDs.isEmpty else { return [:] }
        return try await keyedByID(LockedCallsByID(ids: transactionIDs.sorted()))
    }

    /// The stored calls among `transactionIDs`, live or ended.
    func calls(_ transactionIDs: [String]) async throws -> [String: CallRecord] {
        try await keyedByID(CallsByID(ids: transactionIDs))
    }

    private func keyedByID<Statement: TransactionIDListStatement>(
        _ statement: Statement
    ) async throws -> [String: CallRecord] where Statement.Row == CallRecord {
        var calls: [String: CallRecord] = [:]
        for try await record in try await connection.execute(statement, logger: logger) {
            calls[record.transactionID] = record
        }
        return calls
    }

    /// The rows of `sql`, as calls.
    func calls(_ sql: String, _ values: [StoredValue]) async throws -> [CallRecord] {
        try await connection.rows(sql, values, logger).map(CallColumns.decode)
    }

    /// Which of `events` are remembered: looked up by the table's key, not by reading every event of
    /// their calls (a long call's feed would read its whole history with each batch).
    func seenEvents(among events: [EventIdentity]) async throws -> Set<EventIdentity> {
        guard !events.isEmpty else { return [] }
        var seen: Set<EventIdentity> = []
        for try await identity in try await connection.execute(SeenEvents(events: events), logger: logger) {
            seen.insert(identity)
        }
        return seen
    }

    /// Writes `write` in one statement, whatever its size: the calls' upsert, the events to remember and
    /// the change records (unnumbered: `ChangeSequencer` numbers them once committed), each an array
    /// per column unnested into rows. A second live call of a network with the same external id is
    /// `DomainError.externalIDTaken`.
    func apply(_ write: CallWrite, committedAt: Timestamp) async throws {
        guard !write.isEmpty else { return }
        var binds = PostgresBindings(capacity: CallColumns.all.count * 2 + 10)
        let rows = write.upserts.map(CallColumns.values(of:))
        for (position, column) in CallColumns.all.enumerated() {
            // Arrays here cannot carry NULL, so each column travels with a flag array for its NULLs.
            let values = rows.map { $0[position] }
            switch column.type {
            case .integer: binds.append(values.map { if case .integer(let v) = $0 { v } else { Int64(0) } })
            case .text: binds.append(values.map { if case .text(let v) = $0 { v } else { "" } })
            }
            binds.append(values.map { $0 == .null })
        }
        binds.append(write.remembered.map(\.transactionID))
        binds.append(write.remembered.map(\.kind.rawValue))
        binds.append(write.remembered.map(\.occurredAt.milliseconds))
        let changes = write.changes.map(ChangeRow.init)
        binds.append(changes.map(\.transactionID))
        binds.append(changes.map(\.networkID))
        binds.append(changes.map { $0.advertiserID ?? 0 })
        binds.append(changes.map(\.kind))
        binds.append(changes.map(\.changed))
        binds.append(changes.map(\.call))
        binds.append(changes.map { $0.previousAdvertiserID ?? -1 })
        binds.append(committedAt.milliseconds)
        do {
            // Prepared once per connection: parsing and planning this statement costs more than running it.
            _ = try await connection.execute(CallWriteStatement(binds: binds), logger: logger)
        } catch let error as PSQLError where error.sqlState == "23505" {
            throw DomainError.externalIDTaken
        }
        try await consumePreCallData(write.consumedPreCall)
    }

    fileprivate static let writeSQL: String = {
        let columns = CallColumns.all
        let selected = columns.indices.map { "CASE WHEN n\($0) THEN NULL ELSE v\($0) END" }.joined(separator: ", ")
        let arrays = columns.enumerated().map { position, column in
            "$\(2 * position + 1)::\(column.type.postgresArray), $\(2 * position + 2)::boolean[]"
        }.joined(separator: ", ")
        let names = columns.indices.map { "v\($0), n\($0)" }.joined(separator: ", ")
        let next = 2 * columns.count
        func bind(_ offset: Int) -> String { "$\(next + offset)" }
        return """
            WITH upserted AS (
                INSERT INTO calls (\(CallColumns.names))
                SELECT \(selected) FROM unnest(\(arrays)) AS batch(\(names))
                ON CONFLICT (transaction_id) DO UPDATE SET \(CallColumns.upsertAssignments)
                RETURNING 1),
            remembered AS (
                INSERT INTO call_events (transaction_id, event, occurred_at)
                SELECT * FROM unnest(\(bind(1))::text[], \(bind(2))::text[], \(bind(3))::bigint[])
                ON CONFLICT DO NOTHING
                RETURNING 1)
            INSERT INTO call_changes (\(ChangeRow.columns))
            SELECT id, network, NULLIF(advertiser, 0), NULLIF(previous, -1), kind, changed, call, \(bind(11))
            FROM unnest(\(bind(4))::text[], \(bind(5))::bigint[], \(bind(6))::bigint[], \(bind(7))::text[],
                \(bind(8))::text[], \(bind(9))::text[], \(bind(10))::bigint[])
                WITH ORDINALITY AS batch(id, network, advertiser, kind, changed, call, previous, position)
            ORDER BY position
            """
    }()

    /// Deletes up to `purgeBatchSize` ended calls received before `cutoff`, and their remembered events.
    func deleteEndedCalls(receivedBefore cutoff: Timestamp) async throws -> Int {
        let (doomed, values) = CallSQL.purgeable(.postgres, cutoff: cutoff, limit: purgeBatchSize)
        var ids: [String] = []
        for row in try await connection.rows(
            "DELETE FROM calls WHERE transaction_id IN (\(doomed)) RETURNING transaction_id", values, logger)
        {
            ids.append(try row.requiredText("transaction_id"))
        }
        try await connection.query("DELETE FROM call_events WHERE transaction_id = ANY(\(ids))", logger: logger)
        return ids.count
    }

    /// Deletes up to `purgeBatchSize` changes committed before `cutoff`, oldest first.
    func deleteChanges(committedBefore cutoff: Timestamp) async throws -> Int {
        let (sql, values) = ChangeRow.purge(.postgres, committedBefore: cutoff)
        let deleted = try await connection.rows(sql, values, logger).map { try $0.requiredInteger("sequence") }
        if let highest = deleted.max() {
            try await connection.query(
                "UPDATE change_log SET purged_through = GREATEST(purged_through, \(highest))", logger: logger)
        }
        return deleted.count
    }

    /// The highest sequence number issued: the head a read must see (`ReadBarrier`), asked so often
    /// that it is a prepared statement.
    func latestSequence() async throws -> Int64 {
        var latest: Int64 = 0
        for try await value in try await connection.execute(LatestSequence(), logger: logger) { latest = value }
        return latest
    }

    func bounds() async throws -> ChangeLogBounds {
        guard
            let row = try await connection.rows("SELECT purged_through, last_sequence FROM change_log", [], logger)
                .first
        else { return ChangeLogBounds(purgedThrough: 0, latest: 0) }
        return ChangeLogBounds(
            purgedThrough: try row.requiredInteger("purged_through"), latest: try row.requiredInteger("last_sequence"))
    }

}

// The write path's statements, each prepared on a connection the first time it runs there: parsing
// and planning them costs more than running them.

private struct CallWriteStatement: PostgresPreparedStatement {
    typealias Row = ()
    static let sql = PostgresCallRows.writeSQL
    let binds: PostgresBindings

    func makeBindings() throws -> PostgresBindings { binds }
    func decodeRow(_ row: PostgresRow) throws {}
}

private struct LatestSequence: PostgresPreparedStatement {
    typealias Row = Int64
    static let sql = "SELECT last_sequence FROM change_log"
    func makeBindings() throws -> PostgresBindings { PostgresBindings() }
    func decodeRow(_ row: PostgresRow) throws -> Int64 { try row.decode(Int64.self) }
}

/// A prepared statement whose one parameter is a list of transaction ids.
private protocol TransactionIDListStatement: PostgresPreparedStatement {
    var ids: [String] { get }
}

extension TransactionIDListStatement {
    func makeBindings() throws -> PostgresBindings {
        var binds = PostgresBindings(capacity: 1)
        binds.append(ids)
        return binds
    }
}

private struct LockedCallsByID: TransactionIDListStatement {
    typealias Row = CallRecord
    static let sql = "SELECT \(CallColumns.names) FROM cip_locked_calls($1::text[])"
    let ids: [String]
    func decodeRow(_ row: PostgresRow) throws -> CallRecord { try CallColumns.decode(row.makeRandomAccess()) }
}

private struct CallsByID: TransactionIDListStatement {
    typealias Row = CallRecord
    static let sql = "SELECT \(CallColumns.names) FROM calls WHERE transaction_id = ANY($1::text[])"
    let ids: [String]
    func decodeRow(_ row: PostgresRow) throws -> CallRecord { try CallColumns.decode(row.makeRandomAccess()) }
}

/// `seenEvents`' statement: each asked event found by the remembered events' key
/// (`DuplicateCheckPlanTests` checks its plan).
struct SeenEvents: PostgresPreparedStatement {
    typealias Row = EventIdentity
    static let sql = """
        SELECT transaction_id, event, occurred_at FROM call_events
        JOIN unnest($1::text[], $2::text[], $3::bigint[]) AS asked(transaction_id, event, occurred_at)
        USING (transaction_id, event, occurred_at)
        """
    let events: [EventIdentity]

    func makeBindings() throws -> PostgresBindings {
        var binds = PostgresBindings(capacity: 3)
        binds.append(events.map(\.transactionID))
        binds.append(events.map(\.kind.rawValue))
        binds.append(events.map(\.occurredAt.milliseconds))
        return binds
    }

    func decodeRow(_ row: PostgresRow) throws -> EventIdentity {
        let cells = row.makeRandomAccess()
        let kindText = try cells.requiredText("event")
        guard let kind = CallEventKind(rawValue: kindText) else { throw StoredRowError.invalid("event", kindText) }
        return EventIdentity(
            kind: kind, transactionID: try cells.requiredText("transaction_id"),
            occurredAt: Timestamp(milliseconds: try cells.requiredInteger("occurred_at")))
    }
}

extension StoredType {
    var postgresArray: String {
        switch self {
        case .integer: "bigint[]"
        case .text: "text[]"
        }
    }
}
