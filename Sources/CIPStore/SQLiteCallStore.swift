import CIPDomain
import Foundation
import GRDB
import Logging
import Synchronization

/// The embedded store: one SQLite file in WAL mode, shared safely with `cip admin` processes.
///
/// Live calls are also held in memory (`LiveCallIndex`), so finding them never waits for the
/// database; the file stays the durable record, and only this store writes calls to it.
public final class SQLiteCallStore: CallStore {
    private let pool: DatabasePool
    private let path: String
    private let logger: Logger
    private let live = LiveCallIndex()
    private let servingLock = Mutex<ServingLock?>(nil)

    /// Opens (creating if needed) the database file at `path`.
    public init(path: String, logger: Logger = Logger(label: "cip.store.sqlite")) throws {
        var configuration = Configuration()
        // Admin commands and several readers share the file: wait for a lock rather than fail.
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // FULL makes each commit durable on power loss too, not only on a process crash.
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        self.pool = try DatabasePool(path: path, configuration: configuration)
        self.path = path
        self.logger = logger
    }

    /// Closes the file and lets another server use it; the store cannot be used afterwards.
    public func close() throws {
        servingLock.withLock { $0 = nil }
        try pool.close()
    }

    public func migrate() async throws {
        try SQLiteMigrations.migrator.migrate(pool)
    }

    public func ping() async throws {
        try await read { db in
            _ = try Int.fetchOne(db, sql: "SELECT 1")
        }
    }

    // MARK: Catalog

    public func createNetwork(name: String, country: String) async throws -> Network {
        try await write { db in
            try Self.insert(db, what: "network \(name)") {
                try db.execute(sql: "INSERT INTO networks (name, country) VALUES (?, ?)", arguments: [name, country])
            }
            return Network(id: db.lastInsertedRowID, name: name, country: country)
        }
    }

    public func createAdvertiser(networkID: Int64, name: String, idFromNetwork: String?) async throws -> Advertiser {
        try await write { db in
            try Self.requireNetwork(db, networkID)
            try Self.insert(db, what: "advertiser \(name) in network \(networkID)") {
                try db.execute(
                    sql: "INSERT INTO advertisers (network_id, name, id_from_network) VALUES (?, ?, ?)",
                    arguments: [networkID, name, idFromNetwork])
            }
            return Advertiser(id: db.lastInsertedRowID, networkID: networkID, name: name, idFromNetwork: idFromNetwork)
        }
    }

    public func createField(
        networkID: Int64, name: String, dataType: CustomDataType, allowedValues: [String]
    ) async throws -> CustomDataField {
        try await write { db in
            try Self.requireNetwork(db, networkID)
            try Self.insert(db, what: "field \(name) in network \(networkID)") {
                try db.execute(
                    sql: """
                        INSERT INTO custom_data_fields (network_id, name, data_type, allowed_values)
                        VALUES (?, ?, ?, ?)
                        """,
                    arguments: [networkID, name, dataType.rawValue, StoredList.encode(allowedValues)])
            }
            return CustomDataField(networkID: networkID, name: name, dataType: dataType, allowedValues: allowedValues)
        }
    }

    public func loadCatalog() async throws -> Catalog {
        try await read { db in
            var catalog = Catalog()
            for row in try Row.fetchAll(db, sql: "SELECT id, name, country FROM networks") {
                let network = Network(id: row[0], name: row[1], country: row[2])
                catalog.networks[network.id] = network
            }
            for row in try Row.fetchAll(db, sql: "SELECT id, network_id, name, id_from_network FROM advertisers") {
                let advertiser = Advertiser(id: row[0], networkID: row[1], name: row[2], idFromNetwork: row[3])
                catalog.advertisers[advertiser.id] = advertiser
            }
            let fieldRows = try Row.fetchAll(
                db, sql: "SELECT network_id, name, data_type, allowed_values FROM custom_data_fields")
            for row in fieldRows {
                guard let dataType = CustomDataType(rawValue: row[2]) else { continue }
                let field = CustomDataField(
                    networkID: row[0], name: row[1], dataType: dataType, allowedValues: StoredList.decode(row[3]))
                catalog.fields[field.networkID, default: [:]][field.name] = field
            }
            return catalog
        }
    }

    // MARK: Tokens

    public func createToken(
        hash: TokenHash, kind: TokenKind, organization: OrganizationRef?, scope: TokenScope, description: String?,
        createdAt: Timestamp
    ) async throws -> TokenRecord {
        try await write { db in
            if let organization {
                let table = organization.type == .network ? "networks" : "advertisers"
                let exists = try Bool.fetchOne(db, sql: "SELECT 1 FROM \(table) WHERE id = ?", arguments: [organization.id])
                guard exists == true else { throw CatalogError.unknown("\(organization.type.rawValue) \(organization.id)") }
            }
            try db.execute(
                sql: """
                    INSERT INTO tokens (hash, kind, organization_type, organization_id, scope, description, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    hash.hex, kind.rawValue, organization?.type.rawValue, organization?.id, scope.rawValue, description,
                    createdAt.milliseconds,
                ])
            return TokenRecord(
                id: db.lastInsertedRowID, hash: hash, kind: kind, organization: organization, scope: scope,
                description: description, createdAt: createdAt, revoked: false)
        }
    }

    private static let tokenColumns =
        "id, hash, kind, organization_type, organization_id, scope, description, created_at, revoked_at"

    public func token(hash: TokenHash) async throws -> TokenRecord? {
        try await read { db in
            let statement = try db.cachedStatement(sql: "SELECT \(Self.tokenColumns) FROM tokens WHERE hash = ?")
            return try Row.fetchOne(statement, arguments: [hash.hex]).flatMap(Self.decodeToken)
        }
    }

    public func listTokens() async throws -> [TokenRecord] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.tokenColumns) FROM tokens ORDER BY id").compactMap(Self.decodeToken)
        }
    }

    public func revokeToken(id: Int64) async throws -> TokenRecord? {
        try await write { db in
            try db.execute(
                sql: "UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                arguments: [Timestamp.now().milliseconds, id])
            return try Row.fetchOne(db, sql: "SELECT \(Self.tokenColumns) FROM tokens WHERE id = ?", arguments: [id])
                .flatMap(Self.decodeToken)
        }
    }

    private static func decodeToken(_ row: Row) -> TokenRecord? {
        guard let kind = TokenKind(rawValue: row[2]), let scope = TokenScope(rawValue: row[5]) else { return nil }
        var organization: OrganizationRef?
        if let typeText: String = row[3], let type = OrganizationType(rawValue: typeText), let id: Int64 = row[4] {
            organization = OrganizationRef(type: type, id: id)
        }
        let revokedAt: Int64? = row[8]
        return TokenRecord(
            id: row[0], hash: TokenHash(hex: row[1]), kind: kind, organization: organization, scope: scope,
            description: row[6], createdAt: Timestamp(milliseconds: row[7]), revoked: revokedAt != nil)
    }

    // MARK: Calls

    private static let callColumns = """
        transaction_id, network_id, advertiser_id, call_status, external_unique_id, calling_phone_number,
        destination_phone_number, call_start, transfer_start, attributes, custom_data, last_event_at,
        last_received_at, ended_at, end_reason
        """

    public func currentCalls(_ query: CallQuery) async throws -> [CallRecord] {
        try await liveCalls().calls(matching: query)
    }

    public func currentCallObjects(_ query: CallQuery) async throws -> [CallObjectJSON] {
        try await liveCalls().callObjects(matching: query)
    }

    public func updateCall(_ selector: CallSelector, in scope: CallScope, _ update: CallUpdate) async throws
        -> CallRecord
    {
        let live = try await liveCalls()
        return try await write { db in
            // On the writer queue the index holds every committed write, so it is as good as a read.
            guard let record = live.call(selector, in: scope) else { throw DomainError.notFound }
            let updated = update.applied(to: record)
            guard updated != record else { return record }
            do {
                try db.cachedStatement(
                    sql: "UPDATE calls SET external_unique_id = ?, custom_data = ? WHERE transaction_id = ?"
                ).execute(arguments: [updated.externalUniqueID, updated.customDataJSON, updated.transactionID])
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
                throw DomainError.externalIDTaken
            }
            db.afterNextTransaction(onCommit: { _ in live.commit([updated]) })
            return updated
        }
    }

    public func call(transactionID: String) async throws -> CallRecord? {
        try await read { db in
            try Row.fetchOne(
                db.cachedStatement(sql: "SELECT \(Self.callColumns) FROM calls WHERE transaction_id = ?"),
                arguments: [transactionID]
            ).map(Self.decodeCall)
        }
    }

    public func networkIDs(ofCalls transactionIDs: [String]) async throws -> [String: Int64] {
        guard !transactionIDs.isEmpty else { return [:] }
        let placeholders = Array(repeating: "?", count: transactionIDs.count).joined(separator: ",")
        return try await read { db in
            var result: [String: Int64] = [:]
            let rows = try Row.fetchAll(
                db, sql: "SELECT transaction_id, network_id FROM calls WHERE transaction_id IN (\(placeholders))",
                arguments: StatementArguments(transactionIDs))
            for row in rows { result[row[0]] = row[1] }
            return result
        }
    }

    public func apply(_ events: [CallEvent], receivedAt: Timestamp) async throws -> [CallLifecycle.Outcome] {
        guard !events.isEmpty else { return [] }
        return try await write { db in
            let seenStatement = try db.cachedStatement(
                sql: "SELECT 1 FROM call_events WHERE transaction_id = ? AND event = ? AND occurred_at = ?")
            let recordSeen = try db.cachedStatement(
                sql: "INSERT OR IGNORE INTO call_events (transaction_id, event, occurred_at) VALUES (?, ?, ?)")
            let findCall = try db.cachedStatement(
                sql: "SELECT \(Self.callColumns) FROM calls WHERE transaction_id = ?")
            var outcomes: [CallLifecycle.Outcome] = []
            outcomes.reserveCapacity(events.count)
            var changed: [CallRecord] = []
            for event in events {
                let identity: StatementArguments = [
                    event.transactionID, event.kind.rawValue, event.occurredAt.milliseconds,
                ]
                let seen = try Bool.fetchOne(seenStatement, arguments: identity) ?? false
                let existing = try Row.fetchOne(findCall, arguments: [event.transactionID]).map(Self.decodeCall)
                let outcome = CallLifecycle.apply(event, to: existing, alreadySeen: seen, receivedAt: receivedAt)
                switch outcome {
                case .applied(let record):
                    try Self.save(db, record)
                    try recordSeen.execute(arguments: identity)
                    changed.append(record)
                case .ignored:
                    try recordSeen.execute(arguments: identity)
                case .duplicate, .rejected:
                    break
                }
                outcomes.append(outcome)
            }
            let live = self.live
            let committed = changed
            db.afterNextTransaction(onCommit: { _ in live.commit(committed) })
            return outcomes
        }
    }

    public func expireCalls(silentSince cutoff: Timestamp, now: Timestamp) async throws -> Int {
        let live = self.live
        return try await write { db in
            let expired = try String.fetchAll(
                db,
                sql: """
                    UPDATE calls SET live = 0, ended_at = ?, end_reason = ?, last_received_at = ?
                    WHERE live = 1 AND last_received_at < ?
                    RETURNING transaction_id
                    """,
                arguments: [now.milliseconds, EndReason.expired.rawValue, now.milliseconds, cutoff.milliseconds])
            db.afterNextTransaction(onCommit: { _ in live.remove(expired) })
            return expired.count
        }
    }

    public func purgeCompletedCalls(endedBefore cutoff: Timestamp) async throws -> Int {
        var total = 0
        // Small batches keep each write transaction short, so requests are not held up behind a purge.
        while true {
            let deleted = try await write { db in
                let doomed = "SELECT transaction_id FROM calls WHERE live = 0 AND last_received_at < ? LIMIT \(purgeBatchSize)"
                try db.execute(
                    sql: "DELETE FROM call_events WHERE transaction_id IN (\(doomed))", arguments: [cutoff.milliseconds])
                try db.execute(sql: "DELETE FROM calls WHERE transaction_id IN (\(doomed))", arguments: [cutoff.milliseconds])
                return db.changesCount
            }
            total += deleted
            if deleted < purgeBatchSize { return total }
        }
    }

    public func forEachCompletedCall(
        _ filter: CompletedCallFilter, _ body: @escaping @Sendable (CallRecord) throws -> Void
    ) async throws {
        // Calls recorded only by an early call_ended were never bridged: they are not completed calls.
        var clause = WhereClause("live = 0 AND destination_phone_number <> ''")
        if let networkID = filter.networkID { clause.and("network_id", networkID) }
        if let advertiserID = filter.advertiserID { clause.and("advertiser_id", advertiserID) }
        if let since = filter.since { clause.and("ended_at", since.milliseconds, comparison: ">=") }
        if let until = filter.until { clause.and("ended_at", until.milliseconds, comparison: "<") }
        let sql = """
            SELECT \(Self.callColumns) FROM calls WHERE \(clause.sql)
            ORDER BY ended_at, transaction_id
            """
        let bound = clause.arguments
        try await read { db in
            let cursor = try Row.fetchCursor(db, sql: sql, arguments: bound)
            while let row = try cursor.next() {
                try body(Self.decodeCall(row))
            }
        }
    }

    public func liveCallCount() async throws -> Int {
        try await liveCalls().count
    }

    public func claimMaintenanceRound(job: String, now: Timestamp, every interval: Duration) async throws -> Bool {
        try await write { db in
            let lastRun = try Int64.fetchOne(
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

    private static func save(_ db: Database, _ record: CallRecord) throws {
        let statement = try db.cachedStatement(
            sql: """
                INSERT INTO calls (\(callColumns), live) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (transaction_id) DO UPDATE SET
                    network_id = excluded.network_id, advertiser_id = excluded.advertiser_id,
                    call_status = excluded.call_status, external_unique_id = excluded.external_unique_id,
                    calling_phone_number = excluded.calling_phone_number,
                    destination_phone_number = excluded.destination_phone_number,
                    call_start = excluded.call_start, transfer_start = excluded.transfer_start,
                    attributes = excluded.attributes, custom_data = excluded.custom_data,
                    last_event_at = excluded.last_event_at, last_received_at = excluded.last_received_at,
                    ended_at = excluded.ended_at, end_reason = excluded.end_reason, live = excluded.live
                """)
        let arguments: [(any DatabaseValueConvertible)?] = [
            record.transactionID, record.networkID, record.advertiserID, record.status.rawValue,
            record.externalUniqueID, record.callingPhoneNumber, record.destinationPhoneNumber,
            record.callStart.milliseconds, record.transferStart.milliseconds, record.attributesJSON,
            record.customDataJSON, record.lastEventAt.milliseconds, record.lastReceivedAt.milliseconds,
            record.ended?.at.milliseconds, record.ended?.reason.rawValue, record.isLive ? 1 : 0,
        ]
        try statement.execute(arguments: StatementArguments(arguments))
    }

    private static func decodeCall(_ row: Row) -> CallRecord {
        var ending: CallEnding?
        if let endedAt: Int64 = row[13] {
            ending = CallEnding(at: Timestamp(milliseconds: endedAt), reason: EndReason(rawValue: row[14] ?? "") ?? .ended)
        }
        return CallRecord(
            transactionID: row[0], networkID: row[1], advertiserID: row[2],
            status: CallStatus(rawValue: row[3]) ?? .bridged, externalUniqueID: row[4], callingPhoneNumber: row[5],
            destinationPhoneNumber: row[6], callStart: Timestamp(milliseconds: row[7]),
            transferStart: Timestamp(milliseconds: row[8]), attributes: CallRecord.attributes(fromJSON: row[9]),
            customData: CallRecord.customData(fromJSON: row[10]), lastEventAt: Timestamp(milliseconds: row[11]),
            lastReceivedAt: Timestamp(milliseconds: row[12]), ended: ending)
    }

    // MARK: Helpers

    /// The index of live calls, loaded from the file the first time it is needed. Loading runs on the
    /// writer queue, where commits are applied to it too, so it can neither miss nor repeat a commit.
    private func liveCalls() async throws -> LiveCallIndex {
        if live.isLoaded { return live }
        try await write { [self] db in
            guard !live.isLoaded else { return }
            // Two servers on one file would each miss the other's writes: the second one is refused.
            try servingLock.withLock { held in
                if held == nil { held = try ServingLock(databasePath: path) }
            }
            let cursor = try Row.fetchCursor(db, sql: "SELECT \(Self.callColumns) FROM calls WHERE live = 1")
            var records: [CallRecord] = []
            while let row = try cursor.next() { records.append(Self.decodeCall(row)) }
            live.load(records)
        }
        logger.info("live calls loaded into memory", metadata: ["calls": "\(live.count)"])
        return live
    }

    /// Runs a read, reporting database faults as `StoreFailure`; domain errors pass through.
    private func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch let error as DatabaseError {
            throw StoreFailure(error)
        }
    }

    /// Runs a write transaction, reporting database faults as `StoreFailure`.
    private func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(body)
        } catch let error as DatabaseError {
            throw StoreFailure(error)
        }
    }

    private static func requireNetwork(_ db: Database, _ id: Int64) throws {
        guard try Bool.fetchOne(db, sql: "SELECT 1 FROM networks WHERE id = ?", arguments: [id]) == true else {
            throw CatalogError.unknown("network \(id)")
        }
    }

    private static func insert(_ db: Database, what: String, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE
            || error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY
        {
            throw CatalogError.duplicateName(what)
        }
    }
}

/// Builds `… AND column = ?` conditions with bound arguments; column names are code, never input.
private struct WhereClause {
    private var conditions: [String]
    private(set) var arguments: StatementArguments = []

    init(_ first: String) {
        conditions = [first]
    }

    var sql: String { conditions.joined(separator: " AND ") }

    mutating func and(_ column: String, _ value: some DatabaseValueConvertible, comparison: String = "=") {
        conditions.append("\(column) \(comparison) ?")
        arguments += [value]
    }
}
