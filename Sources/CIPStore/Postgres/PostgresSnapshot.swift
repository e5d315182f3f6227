import CIPDomain
import Logging
import PostgresNIO

/// An organization's calls exactly as of the change log's latest number, on PostgreSQL.
///
/// In one REPEATABLE READ snapshot, the calls table may already hold changes that are committed but
/// not yet numbered (they will be numbered above N). Those calls are taken from the change log
/// instead, at their last numbered change up to N — or left out, if that change was their end or
/// they had none. Every other call's row is exactly its state at N.
struct PostgresSnapshot {
    let connection: PostgresConnection
    let logger: Logger

    func take(_ scope: CallScope) async throws -> ChangeSnapshot {
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

    private func read(_ scope: CallScope) async throws -> ChangeSnapshot {
        let rows = PostgresCallRows(connection: connection, logger: logger)
        let sequence = try await rows.bounds().latest
        let query = CallQuery(scope: scope, transactionID: nil, externalUniqueID: nil, phonePair: nil)
        let (sql, values) = CallSQL.current(.postgres, query)
        var listed = try await rows.calls(sql, values).map { Listed(record: $0) }
        let ahead = Set(
            try await connection.rows(
                "SELECT DISTINCT transaction_id FROM call_changes WHERE sequence IS NULL", [], logger
            ).map { try $0.requiredText("transaction_id") })
        guard !ahead.isEmpty else { return ChangeSnapshot(sequence: sequence, calls: listed.map(\.object)) }
        listed.removeAll { ahead.contains($0.transactionID) }
        let latest = try await connection.query(
            """
            SELECT DISTINCT ON (transaction_id) \(unescaped: ChangeRow.selectColumns) FROM call_changes
            WHERE transaction_id = ANY(\(ahead.sorted())) AND sequence <= \(sequence)
            ORDER BY transaction_id, sequence DESC
            """, logger: logger)
        for try await row in latest {
            let change = try ChangeRow.decode(row.makeRandomAccess())
            guard change.kind != .ended, change.isVisible(to: scope.organization.ref) else { continue }
            listed.append(try Listed(change: change))
        }
        // SPEC 2.2's order: most recently transferred first, ties by transaction id.
        listed.sort {
            $0.transferStart != $1.transferStart
                ? $0.transferStart > $1.transferStart : $0.transactionID < $1.transactionID
        }
        return ChangeSnapshot(sequence: sequence, calls: listed.map(\.object))
    }

    /// A call as a snapshot lists it, with what SPEC 2.2's order needs.
    private struct Listed {
        let transactionID: String
        let transferStart: Timestamp
        let object: CallObjectJSON

        init(record: CallRecord) {
            transactionID = record.transactionID
            transferStart = record.transferStart
            object = CallObjectJSON(record)
        }

        init(change: LoggedChange) throws {
            guard let object = JSONValue.parse(text: change.call)?.objectValue,
                let transfer = object["transfer_start_time_utc"]?.stringValue.flatMap(Timestamp.init(iso8601:))
            else { throw StoredRowError.invalid("call", change.transactionID) }
            transactionID = change.transactionID
            transferStart = transfer
            self.object = CallObjectJSON(json: Array(change.call.utf8))
        }
    }
}

extension LoggedChange {
    func isVisible(to organization: OrganizationRef) -> Bool {
        switch organization.type {
        case .network: networkID == organization.id
        case .advertiser: advertiserID == organization.id
        }
    }
}
