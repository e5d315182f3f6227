import CIPDomain
import Logging
import PostgresNIO

/// The PostgreSQL write path's row primitives, inside one transaction. They lock, read and write
/// rows; what to write is decided by `CallWrite`.
struct PostgresCallRows {
    let connection: PostgresConnection
    let logger: Logger

    /// Takes each call's lock for the rest of the transaction, in a fixed order so that two nodes'
    /// transactions cannot deadlock. Every write of a call — event, update, expiry — takes it first,
    /// so a call's changes apply one at a time across every node, and its change records are
    /// written in the order they happen.
    func lock(_ transactionIDs: [String]) async throws {
        guard !transactionIDs.isEmpty else { return }
        try await connection.query(
            "SELECT pg_advisory_xact_lock(hashtextextended(k, 7391002)) FROM unnest(\(transactionIDs.sorted())) AS k ORDER BY k",
            logger: logger)
    }

    /// The stored calls among `transactionIDs`, live or ended.
    func calls(_ transactionIDs: [String]) async throws -> [String: CallRecord] {
        var calls: [String: CallRecord] = [:]
        let query = PostgresQuery(
            unsafeSQL: "SELECT \(CallColumns.names) FROM calls WHERE transaction_id = ANY($1)",
            binds: Self.binds(transactionIDs))
        for try await row in try await connection.query(query, logger: logger) {
            let record = try CallColumns.decode(row.makeRandomAccess())
            calls[record.transactionID] = record
        }
        return calls
    }

    /// The rows of `sql`, as calls.
    func calls(_ sql: String, _ values: [StoredValue]) async throws -> [CallRecord] {
        try await connection.rows(sql, values, logger).map(CallColumns.decode)
    }

    /// The remembered events of the calls among `transactionIDs`.
    func seenEvents(_ transactionIDs: [String]) async throws -> Set<EventIdentity> {
        var seen: Set<EventIdentity> = []
        for try await (id, kindText, occurred) in try await connection.query(
            "SELECT transaction_id, event, occurred_at FROM call_events WHERE transaction_id = ANY(\(transactionIDs))",
            logger: logger
        ).decode((String, String, Int64).self) {
            guard let kind = CallEventKind(rawValue: kindText) else { throw StoredRowError.invalid("event", kindText) }
            seen.insert(EventIdentity(kind: kind, transactionID: id, occurredAt: Timestamp(milliseconds: occurred)))
        }
        return seen
    }

    /// Writes `write`: a handful of statements, whatever its size. A second live call of a network
    /// with the same external id is `DomainError.externalIDTaken`.
    func apply(_ write: CallWrite, committedAt: Timestamp) async throws {
        do {
            try await upsert(write.upserts)
        } catch let error as PSQLError where error.sqlState == "23505" {
            throw DomainError.externalIDTaken
        }
        if !write.remembered.isEmpty {
            let ids = write.remembered.map(\.transactionID)
            let kinds = write.remembered.map(\.kind.rawValue)
            let times = write.remembered.map(\.occurredAt.milliseconds)
            try await connection.query(
                """
                INSERT INTO call_events (transaction_id, event, occurred_at)
                SELECT * FROM unnest(\(ids)::text[], \(kinds)::text[], \(times)::bigint[])
                ON CONFLICT DO NOTHING
                """, logger: logger)
        }
        try await insertChanges(write.changes, committedAt: committedAt)
    }

    /// Upserts calls in one statement built from `CallColumns`: an array per column, unnested into
    /// rows. Arrays here cannot carry NULL, so each column travels with a flag array that says which
    /// of its values are NULL.
    private func upsert(_ records: [CallRecord]) async throws {
        guard !records.isEmpty else { return }
        var binds = PostgresBindings(capacity: CallColumns.all.count * 2)
        let rows = records.map(CallColumns.values(of:))
        for (position, column) in CallColumns.all.enumerated() {
            let values = rows.map { $0[position] }
            switch column.type {
            case .integer: binds.append(values.map { if case .integer(let v) = $0 { v } else { Int64(0) } })
            case .text: binds.append(values.map { if case .text(let v) = $0 { v } else { "" } })
            case .boolean: binds.append(values.map { if case .boolean(let v) = $0 { v } else { false } })
            }
            binds.append(values.map { $0 == .null })
        }
        try await connection.query(PostgresQuery(unsafeSQL: Self.upsertSQL, binds: binds), logger: logger)
    }

    private static let upsertSQL: String = {
        let columns = CallColumns.all
        let selected = columns.indices.map { "CASE WHEN n\($0) THEN NULL ELSE v\($0) END" }.joined(separator: ", ")
        let arrays = columns.enumerated().map { position, column in
            "$\(2 * position + 1)::\(column.type.postgresArray), $\(2 * position + 2)::boolean[]"
        }.joined(separator: ", ")
        let names = columns.indices.map { "v\($0), n\($0)" }.joined(separator: ", ")
        return """
            INSERT INTO calls (\(CallColumns.names))
            SELECT \(selected) FROM unnest(\(arrays)) AS batch(\(names))
            ON CONFLICT (transaction_id) DO UPDATE SET \(CallColumns.upsertAssignments)
            """
    }()

    /// Records changes without a sequence number: `ChangeSequencer` stamps them once committed.
    private func insertChanges(_ changes: [CallChange], committedAt: Timestamp) async throws {
        guard !changes.isEmpty else { return }
        let rows = changes.map(ChangeRow.init)
        let ids = rows.map(\.transactionID)
        let networks = rows.map(\.networkID)
        let advertisers = rows.map { $0.advertiserID ?? 0 }
        let kinds = rows.map(\.kind)
        let changed = rows.map(\.changed)
        let calls = rows.map(\.call)
        try await connection.query(
            """
            INSERT INTO call_changes (\(unescaped: ChangeRow.columns))
            SELECT id, network, NULLIF(advertiser, 0), kind, changed, call, \(committedAt.milliseconds)
            FROM unnest(\(ids)::text[], \(networks)::bigint[], \(advertisers)::bigint[], \(kinds)::text[],
                \(changed)::text[], \(calls)::text[]) WITH ORDINALITY AS batch(id, network, advertiser, kind, changed, call, position)
            ORDER BY position
            """, logger: logger)
    }

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

    func bounds() async throws -> ChangeLogBounds {
        guard
            let row = try await connection.rows("SELECT purged_through, last_sequence FROM change_log", [], logger)
                .first
        else { return ChangeLogBounds(purgedThrough: 0, latest: 0) }
        return ChangeLogBounds(
            purgedThrough: try row.requiredInteger("purged_through"), latest: try row.requiredInteger("last_sequence"))
    }

    private static func binds(_ texts: [String]) -> PostgresBindings {
        var binds = PostgresBindings(capacity: 1)
        binds.append(texts)
        return binds
    }
}

extension StoredType {
    var postgresArray: String {
        switch self {
        case .integer: "bigint[]"
        case .text: "text[]"
        case .boolean: "boolean[]"
        }
    }
}
