import CIPDomain
import Logging
import PostgresNIO

extension PostgresDatabase: PreCallStore {
    public func putPreCallData(_ entry: PreCallData) async throws -> PreCallEntry {
        try await transaction { connection, logger in
            // Replaced, not updated: the new entry takes a new id, so it is the most recently written.
            // A bridge holding the old entry's lock makes the delete wait; it then deletes nothing and
            // the new entry stays pending: applied to that call or pending, never both, never lost.
            let (condition, values) = PreCallColumns.forNumbers(
                .postgres, entry.organization, calling: entry.callingPhoneNumber,
                destination: entry.destinationPhoneNumber)
            _ = try await connection.rows("DELETE FROM pre_call_data WHERE \(condition) RETURNING id", values, logger)
            guard
                let row = try await connection.rows(
                    PreCallColumns.insert(.postgres), PreCallColumns.values(of: entry), logger
                ).first
            else { throw StoreFailure(CatalogError.invalidArgument("insert returned no row")) }
            return try PreCallColumns.decode(row)
        }
    }

    public func preCallData(for organization: OrganizationRef, now: Timestamp) async throws -> [PreCallEntry] {
        let (sql, values) = PreCallColumns.pending(.postgres, organization, now: now)
        return try await guarded { connection, _ in
            try await connection.rows(sql, values, self.logger).map(PreCallColumns.decode)
        }
    }

    public func withdrawPreCallData(
        for organization: OrganizationRef, calling: String, destination: String?, now: Timestamp
    ) async throws -> PreCallEntry? {
        let (condition, values) = PreCallColumns.forNumbers(
            .postgres, organization, calling: calling, destination: destination)
        return try await transaction { connection, logger in
            try await connection.rows(
                "DELETE FROM pre_call_data WHERE \(condition) RETURNING \(PreCallColumns.names)", values, logger
            ).map(PreCallColumns.decode).first { $0.data.expiresAt > now }
        }
    }

    public func purgeExpiredPreCallData(now: Timestamp) async throws -> Int {
        try await transaction { connection, logger in
            try await connection.rows(
                "DELETE FROM pre_call_data WHERE expires_at <= $1 RETURNING id", [.integer(now.milliseconds)], logger
            ).count
        }
    }
}

extension PostgresCallRows {
    /// What the bridges among `events` may take: the pending entries for their callers (locked), and
    /// the external ids those entries name that live calls already have.
    func preCallCandidates(for events: [CallEvent], now: Timestamp) async throws -> PreCallCandidates {
        let entries = try await preCallCandidates(forCallers: CallWrite.bridgedCallers(events), now: now)
        var taken: [Int64: Set<String>] = [:]
        for (network, ids) in PreCallCandidates(entries: entries).externalIDsByNetwork {
            taken[network] = try await takenExternalIDs(ids, inNetwork: network)
        }
        return PreCallCandidates(entries: entries, takenExternalIDs: taken)
    }

    /// The pending entries for `callers`, locked for the rest of the write (none read when nothing
    /// is pending at all).
    func preCallCandidates(forCallers callers: [String], now: Timestamp) async throws -> [PreCallEntry] {
        guard !callers.isEmpty,
            try await connection.rows(
                "SELECT 1 AS pending FROM pre_call_data WHERE expires_at > $1 LIMIT 1", [.integer(now.milliseconds)],
                logger
            ).count == 1
        else { return [] }
        let (sql, values) = PreCallColumns.forCallers(.postgres, callers, now: now, lock: true)
        return try await connection.rows(sql, values, logger).map(PreCallColumns.decode)
    }

    /// Which of `ids` a live call of `networkID` already has as its external id.
    func takenExternalIDs(_ ids: [String], inNetwork networkID: Int64) async throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        let list = ids.indices.map { "$\($0 + 2)" }.joined(separator: ", ")
        let rows = try await connection.rows(
            "SELECT external_unique_id FROM calls WHERE \(CallSQL.isLive) AND network_id = $1 AND external_unique_id IN (\(list))",
            [.integer(networkID)] + ids.map(StoredValue.text), logger)
        return Set(try rows.compactMap { try $0.text("external_unique_id") })
    }

    /// Removes the entries a write consumed.
    func consumePreCallData(_ ids: [Int64]) async throws {
        for id in ids {
            _ = try await connection.rows(
                "DELETE FROM pre_call_data WHERE id = $1 RETURNING id", [.integer(id)], logger)
        }
    }
}
