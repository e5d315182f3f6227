import CIPDomain
import Logging
import PostgresNIO

/// Live calls exactly as of the change log's latest number, on PostgreSQL: a node's index at start.
///
/// In one REPEATABLE READ snapshot, the calls table may already hold changes that are committed but
/// not yet numbered (they will be numbered above N). Those calls are taken from the change log
/// instead, at their last numbered change up to N — or left out, if that change was their end or
/// they had none. Every other call's row is exactly its state at N.
struct PostgresSnapshot {
    let connection: PostgresConnection
    let logger: Logger

    /// The live calls `scope` may see (every live call when it is nil), and the sequence number they
    /// are as of; the rows are read by the scope's own query, not every live call of the database.
    func take(_ scope: CallScope? = nil) async throws -> (sequence: Int64, calls: [LiveCall]) {
        try await connection.query("START TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
        do {
            let snapshot = try await read(scope)
            try await connection.query("COMMIT", logger: logger)
            return snapshot
        } catch {
            _ = try? await connection.query("ROLLBACK", logger: logger)
            throw error
        }
    }

    private func read(_ scope: CallScope?) async throws -> (sequence: Int64, calls: [LiveCall]) {
        let rows = PostgresCallRows(connection: connection, logger: logger)
        let sequence = try await rows.bounds().latest
        let (sql, values) =
            scope.map {
                CallSQL.current(
                    .postgres, CallQuery(scope: $0, transactionID: nil, externalUniqueID: nil, phonePair: nil))
            } ?? ("SELECT \(CallColumns.names) FROM calls WHERE \(CallSQL.isLive)", [])
        var listed = try await rows.calls(sql, values).map { LiveCall($0) }
        let ahead = Set(
            try await connection.rows(
                "SELECT DISTINCT transaction_id FROM call_changes WHERE sequence IS NULL", [], logger
            ).map { try $0.requiredText("transaction_id") })
        guard !ahead.isEmpty else { return (sequence, listed) }
        listed.removeAll { ahead.contains($0.transactionID) }
        let latest = try await connection.query(
            """
            SELECT DISTINCT ON (transaction_id) \(unescaped: ChangeRow.selectColumns) FROM call_changes
            WHERE transaction_id = ANY(\(ahead.sorted())) AND sequence <= \(sequence)
            ORDER BY transaction_id, sequence DESC
            """, logger: logger)
        for try await row in latest {
            let change = try ChangeRow.decode(row.makeRandomAccess())
            guard change.kind != .ended else { continue }
            let call = try LiveCall(change)
            if let scope, !call.isVisible(to: scope) { continue }
            listed.append(call)
        }
        return (sequence, listed)
    }
}
