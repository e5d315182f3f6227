import CIPDomain
import GRDB

extension SQLiteDatabase: PreCallStore {
    public func putPreCallData(_ entry: PreCallData) async throws -> PreCallEntry {
        try await write { db in
            // Replaced, not updated: the new entry takes a new id, so it is the most recently written.
            let (condition, values) = PreCallColumns.forNumbers(
                .sqlite, entry.organization, calling: entry.callingPhoneNumber,
                destination: entry.destinationPhoneNumber)
            try db.execute(sql: "DELETE FROM pre_call_data WHERE \(condition)", arguments: StatementArguments(values))
            guard
                let row = try Row.fetchOne(
                    db, sql: PreCallColumns.insert(.sqlite),
                    arguments: StatementArguments(PreCallColumns.values(of: entry)))
            else { throw StoreFailure(CatalogError.invalidArgument("insert returned no row")) }
            return try PreCallColumns.decode(row)
        }
    }

    public func preCallData(for organization: OrganizationRef, now: Timestamp) async throws -> [PreCallEntry] {
        let (sql, values) = PreCallColumns.pending(.sqlite, organization, now: now)
        return try await read { db in
            try Row.fetchAll(db, sql: sql, arguments: StatementArguments(values)).map(PreCallColumns.decode)
        }
    }

    public func withdrawPreCallData(
        for organization: OrganizationRef, calling: String, destination: String?, now: Timestamp
    ) async throws -> PreCallEntry? {
        let (condition, values) = PreCallColumns.forNumbers(
            .sqlite, organization, calling: calling, destination: destination)
        return try await write { db in
            let rows = try Row.fetchAll(
                db, sql: "DELETE FROM pre_call_data WHERE \(condition) RETURNING \(PreCallColumns.names)",
                arguments: StatementArguments(values))
            // An expired entry is gone already, as far as anyone can tell.
            return try rows.map(PreCallColumns.decode).first { $0.data.expiresAt > now }
        }
    }

    public func purgeExpiredPreCallData(now: Timestamp) async throws -> Int {
        try await write { db in
            try db.execute(sql: "DELETE FROM pre_call_data WHERE expires_at <= ?", arguments: [now.milliseconds])
            return db.changesCount
        }
    }
}

extension SQLiteCallRows {
    /// What the bridges among `events` may take: the pending entries for their callers, and the
    /// external ids those entries name that live calls already have.
    func preCallCandidates(for events: [CallEvent], now: Timestamp) throws -> PreCallCandidates {
        let entries = try preCallCandidates(forCallers: CallWrite.bridgedCallers(events), now: now)
        var taken: [Int64: Set<String>] = [:]
        for (network, ids) in PreCallCandidates(entries: entries).externalIDsByNetwork {
            taken[network] = try takenExternalIDs(ids, inNetwork: network)
        }
        return PreCallCandidates(entries: entries, takenExternalIDs: taken)
    }

    /// The pending entries for `callers` (none read when nothing is pending at all).
    func preCallCandidates(forCallers callers: [String], now: Timestamp) throws -> [PreCallEntry] {
        guard !callers.isEmpty,
            try Bool.fetchOne(
                db, sql: "SELECT EXISTS (SELECT 1 FROM pre_call_data WHERE expires_at > ?)",
                arguments: [now.milliseconds]) == true
        else { return [] }
        let (sql, values) = PreCallColumns.forCallers(.sqlite, callers, now: now, lock: false)
        return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(values)).map(PreCallColumns.decode)
    }

    /// Which of `ids` a live call of `networkID` already has as its external id.
    func takenExternalIDs(_ ids: [String], inNetwork networkID: Int64) throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        let list = Array(repeating: "?", count: ids.count).joined(separator: ", ")
        let sql =
            "SELECT external_unique_id FROM calls WHERE \(CallSQL.isLive) AND network_id = ? AND external_unique_id IN (\(list))"
        return Set(try String.fetchAll(db, sql: sql, arguments: StatementArguments([networkID] + ids)))
    }

    /// Removes the entries a write consumed.
    func consumePreCallData(_ ids: [Int64]) throws {
        for id in ids { try db.execute(sql: "DELETE FROM pre_call_data WHERE id = ?", arguments: [id]) }
    }
}
