import CIPDomain
import Foundation
import Logging
import PostgresNIO
import Synchronization

/// The shared store for several `cip serve` nodes: PostgreSQL through a postgres-nio client pool.
///
/// The client must run (it is a `Service`) while the store is used. Every operation has a deadline;
/// when the database cannot be reached the store throws `DomainError.unavailable` (503) and
/// recovers by itself once the pool can connect again.
public final class PostgresCallStore: CallStore {
    public let client: PostgresClient
    private let logger: Logger
    private let deadline: Duration
    private let statementDeadline: Duration
    private let breaker: CircuitBreaker

    /// - Parameters:
    ///   - deadline: how long an operation may wait for a connection.
    ///   - statementDeadline: how long a leased connection may go without finishing a statement (or,
    ///     in a streamed export, without a row) before the operation is answered as an outage.
    public init(
        url: String, logger: Logger = Logger(label: "cip.store.postgres"), deadline: Duration = .seconds(5),
        statementDeadline: Duration = .seconds(10)
    ) throws {
        let client = PostgresClient(configuration: try PostgresURL.configuration(from: url), backgroundLogger: logger)
        self.client = client
        self.logger = logger
        self.deadline = deadline
        self.statementDeadline = statementDeadline
        self.breaker = CircuitBreaker { [logger] in
            let answered = try? await client.withWatchedConnection(leaseDeadline: .seconds(1), statementDeadline: .seconds(1)) {
                connection, _ in try await connection.query("SELECT 1", logger: logger).collect().count
            }
            return answered != nil
        }
    }

    // MARK: Schema

    /// Applies missing migrations under an advisory lock, so nodes starting together apply each once.
    public func migrate() async throws {
        // Schema changes may wait for other sessions' locks and rewrite tables: no statement
        // deadline of a request applies (nodes starting together queue here for the advisory lock).
        try await transaction(statementDeadline: .seconds(3600)) { connection, logger in
            try await connection.query("SELECT pg_advisory_xact_lock(7391001)", logger: logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS schema_migrations (version TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)",
                logger: logger)
            var applied: Set<String> = []
            for try await version in try await connection.query("SELECT version FROM schema_migrations", logger: logger)
                .decode(String.self)
            {
                applied.insert(version)
            }
            for migration in PostgresMigrations.versions where !applied.contains(migration.name) {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                let now = Timestamp.now().milliseconds
                try await connection.query(
                    "INSERT INTO schema_migrations (version, applied_at) VALUES (\(migration.name), \(now))",
                    logger: logger)
            }
        }
    }

    public func ping() async throws {
        _ = try await guarded { connection in try await connection.query("SELECT 1", logger: self.logger).collect().count }
    }

    // MARK: Catalog

    public func createNetwork(name: String, country: String) async throws -> Network {
        try await transaction { connection, logger in
            let id = try await Self.insertReturningID(
                connection, logger, what: "network \(name)",
                "INSERT INTO networks (name, country) VALUES (\(name), \(country)) RETURNING id")
            return Network(id: id, name: name, country: country)
        }
    }

    public func createAdvertiser(networkID: Int64, name: String, idFromNetwork: String?) async throws -> Advertiser {
        try await transaction { connection, logger in
            try await Self.requireNetwork(connection, logger, networkID)
            let id = try await Self.insertReturningID(
                connection, logger, what: "advertiser \(name) in network \(networkID)",
                """
                INSERT INTO advertisers (network_id, name, id_from_network) VALUES (\(networkID), \(name), \(idFromNetwork))
                RETURNING id
                """)
            return Advertiser(id: id, networkID: networkID, name: name, idFromNetwork: idFromNetwork)
        }
    }

    public func createField(
        networkID: Int64, name: String, dataType: CustomDataType, allowedValues: [String]
    ) async throws -> CustomDataField {
        try await transaction { connection, logger in
            try await Self.requireNetwork(connection, logger, networkID)
            let allowed = StoredList.encode(allowedValues)
            _ = try await Self.insertReturningID(
                connection, logger, what: "field \(name) in network \(networkID)",
                """
                INSERT INTO custom_data_fields (network_id, name, data_type, allowed_values)
                VALUES (\(networkID), \(name), \(dataType.rawValue), \(allowed)) RETURNING network_id
                """)
            return CustomDataField(networkID: networkID, name: name, dataType: dataType, allowedValues: allowedValues)
        }
    }

    public func loadCatalog() async throws -> Catalog {
        try await guarded { connection in
            var catalog = Catalog()
            for try await (id, name, country) in try await connection.query(
                "SELECT id, name, country FROM networks", logger: self.logger
            ).decode((Int64, String, String).self) {
                catalog.networks[id] = Network(id: id, name: name, country: country)
            }
            for try await (id, networkID, name, fromNetwork) in try await connection.query(
                "SELECT id, network_id, name, id_from_network FROM advertisers", logger: self.logger
            ).decode((Int64, Int64, String, String?).self) {
                catalog.advertisers[id] = Advertiser(id: id, networkID: networkID, name: name, idFromNetwork: fromNetwork)
            }
            for try await (networkID, name, type, allowed) in try await connection.query(
                "SELECT network_id, name, data_type, allowed_values FROM custom_data_fields", logger: self.logger
            ).decode((Int64, String, String, String).self) {
                guard let dataType = CustomDataType(rawValue: type) else { continue }
                catalog.fields[networkID, default: [:]][name] = CustomDataField(
                    networkID: networkID, name: name, dataType: dataType, allowedValues: StoredList.decode(allowed))
            }
            return catalog
        }
    }

    // MARK: Tokens

    public func createToken(
        hash: TokenHash, kind: TokenKind, organization: OrganizationRef?, scope: TokenScope, description: String?,
        createdAt: Timestamp
    ) async throws -> TokenRecord {
        try await transaction { connection, logger in
            if let organization {
                let table = organization.type == .network ? "networks" : "advertisers"
                let rows = try await connection.query(
                    PostgresQuery(unsafeSQL: "SELECT 1 FROM \(table) WHERE id = $1", binds: Self.binds([organization.id])),
                    logger: logger)
                guard try await rows.collect().count == 1 else {
                    throw CatalogError.unknown("\(organization.type.rawValue) \(organization.id)")
                }
            }
            let id = try await Self.insertReturningID(
                connection, logger, what: "token",
                """
                INSERT INTO tokens (hash, kind, organization_type, organization_id, scope, description, created_at)
                VALUES (\(hash.hex), \(kind.rawValue), \(organization?.type.rawValue), \(organization?.id),
                    \(scope.rawValue), \(description), \(createdAt.milliseconds))
                RETURNING id
                """)
            return TokenRecord(
                id: id, hash: hash, kind: kind, organization: organization, scope: scope, description: description,
                createdAt: createdAt, revoked: false)
        }
    }

    private static let tokenColumns =
        "id, hash, kind, organization_type, organization_id, scope, description, created_at, revoked_at"

    public func token(hash: TokenHash) async throws -> TokenRecord? {
        try await guarded { connection in
            try await Self.tokens(connection, self.logger, 
                PostgresQuery(unsafeSQL: "SELECT \(Self.tokenColumns) FROM tokens WHERE hash = $1", binds: Self.binds([hash.hex]))
            ).first
        }
    }

    public func listTokens() async throws -> [TokenRecord] {
        try await guarded { connection in
            try await Self.tokens(connection, self.logger, PostgresQuery(unsafeSQL: "SELECT \(Self.tokenColumns) FROM tokens ORDER BY id"))
        }
    }

    public func revokeToken(id: Int64) async throws -> TokenRecord? {
        try await guarded { connection in
            let now = Timestamp.now().milliseconds
            try await connection.query(
                "UPDATE tokens SET revoked_at = \(now) WHERE id = \(id) AND revoked_at IS NULL", logger: self.logger)
            return try await Self.tokens(connection, self.logger, 
                PostgresQuery(unsafeSQL: "SELECT \(Self.tokenColumns) FROM tokens WHERE id = $1", binds: Self.binds([id]))
            ).first
        }
    }

    private static func tokens(_ connection: PostgresConnection, _ logger: Logger, _ query: PostgresQuery) async throws
        -> [TokenRecord]
    {
        var records: [TokenRecord] = []
        for try await row in try await connection.query(query, logger: logger) {
            let cells = row.makeRandomAccess()
            guard let kind = TokenKind(rawValue: try cells[2].decode(String.self)),
                let scope = TokenScope(rawValue: try cells[5].decode(String.self))
            else { continue }
            var organization: OrganizationRef?
            if let type = try cells[3].decode(String?.self).flatMap(OrganizationType.init(rawValue:)),
                let organizationID = try cells[4].decode(Int64?.self)
            {
                organization = OrganizationRef(type: type, id: organizationID)
            }
            records.append(
                TokenRecord(
                    id: try cells[0].decode(Int64.self), hash: TokenHash(hex: try cells[1].decode(String.self)),
                    kind: kind, organization: organization, scope: scope, description: try cells[6].decode(String?.self),
                    createdAt: Timestamp(milliseconds: try cells[7].decode(Int64.self)),
                    revoked: try cells[8].decode(Int64?.self) != nil))
        }
        return records
    }

    // MARK: Calls

    static let callColumns = """
        transaction_id, network_id, advertiser_id, call_status, external_unique_id, calling_phone_number,
        destination_phone_number, call_start, transfer_start, attributes, custom_data, last_event_at,
        last_received_at, ended_at, end_reason
        """

    public func currentCalls(_ query: CallQuery) async throws -> [CallRecord] {
        var sql = QueryBuilder("SELECT \(Self.callColumns) FROM calls WHERE live")
        switch query.scope.organization.ref.type {
        case .network: sql.and("network_id", query.scope.organization.ref.id)
        case .advertiser: sql.and("advertiser_id", query.scope.organization.ref.id)
        }
        if let transactionID = query.transactionID { sql.and("transaction_id", transactionID) }
        if let externalUniqueID = query.externalUniqueID { sql.and("external_unique_id", externalUniqueID) }
        if let pair = query.phonePair {
            sql.and("calling_phone_number", pair.calling)
            sql.and("destination_phone_number", pair.destination)
        }
        sql.text += " ORDER BY transfer_start DESC, transaction_id ASC"
        let built = sql.query
        return try await guarded { connection in try await Self.calls(try await connection.query(built, logger: self.logger)) }
    }

    public func updateCall(_ selector: CallSelector, in scope: CallScope, _ update: CallUpdate) async throws
        -> CallRecord
    {
        var sql = QueryBuilder("SELECT \(Self.callColumns) FROM calls WHERE live")
        if let transactionID = selector.transactionID { sql.and("transaction_id", transactionID) }
        if let externalUniqueID = selector.externalUniqueID {
            sql.and("network_id", scope.organization.networkID)
            sql.and("external_unique_id", externalUniqueID)
        }
        // The row lock serializes concurrent updates of one call, on every node.
        sql.text += " FOR UPDATE"
        let built = sql.query
        return try await transaction { connection, logger in
            let rows = try await Self.calls(try await connection.query(built, logger: logger))
            guard let record = rows.first(where: scope.contains) else { throw DomainError.notFound }
            let updated = update.applied(to: record)
            guard updated != record else { return record }
            do {
                try await connection.query(
                    """
                    UPDATE calls SET external_unique_id = \(updated.externalUniqueID), custom_data = \(updated.customDataJSON)
                    WHERE transaction_id = \(updated.transactionID)
                    """, logger: logger)
            } catch let error as PSQLError where error.sqlState == "23505" {
                throw DomainError.externalIDTaken
            }
            return updated
        }
    }

    public func call(transactionID: String) async throws -> CallRecord? {
        try await guarded { connection in
            try await Self.calls(
                try await connection.query(
                    PostgresQuery(
                        unsafeSQL: "SELECT \(Self.callColumns) FROM calls WHERE transaction_id = $1",
                        binds: Self.binds([transactionID])), logger: self.logger)
            ).first
        }
    }

    public func networkIDs(ofCalls transactionIDs: [String]) async throws -> [String: Int64] {
        guard !transactionIDs.isEmpty else { return [:] }
        return try await guarded { connection in
            var result: [String: Int64] = [:]
            for try await (id, network) in try await connection.query(
                "SELECT transaction_id, network_id FROM calls WHERE transaction_id = ANY(\(transactionIDs))",
                logger: self.logger
            ).decode((String, Int64).self) {
                result[id] = network
            }
            return result
        }
    }

    public func apply(_ events: [CallEvent], receivedAt: Timestamp) async throws -> [CallLifecycle.Outcome] {
        guard !events.isEmpty else { return [] }
        return try await transaction { connection, logger in
            // One lock per call, taken in a fixed order so two nodes' batches cannot deadlock, makes
            // each call's events apply one at a time across every node.
            let keys = Set(events.map(\.transactionID)).sorted()
            try await connection.query(
                "SELECT pg_advisory_xact_lock(hashtextextended(k, 7391002)) FROM unnest(\(keys)) AS k ORDER BY k",
                logger: logger)
            // Under those locks the batch's calls cannot change, so they and their remembered events
            // are read once, the events applied in memory, and the results written back: a handful of
            // round trips a batch instead of four an event.
            var records: [String: CallRecord] = [:]
            for record in try await Self.calls(
                try await connection.query(
                    PostgresQuery(
                        unsafeSQL: "SELECT \(Self.callColumns) FROM calls WHERE transaction_id = ANY($1)",
                        binds: Self.binds([keys])), logger: logger))
            {
                records[record.transactionID] = record
            }
            var seen: Set<EventIdentity> = []
            for try await (id, kind, occurred) in try await connection.query(
                "SELECT transaction_id, event, occurred_at FROM call_events WHERE transaction_id = ANY(\(keys))",
                logger: logger
            ).decode((String, String, Int64).self) {
                if let kind = CallEventKind(rawValue: kind) {
                    seen.insert(EventIdentity(kind: kind, transactionID: id, occurredAt: Timestamp(milliseconds: occurred)))
                }
            }
            var outcomes: [CallLifecycle.Outcome] = []
            outcomes.reserveCapacity(events.count)
            var changed: [String] = []
            var remembered: [EventIdentity] = []
            for event in events {
                let outcome = CallLifecycle.apply(
                    event, to: records[event.transactionID], alreadySeen: seen.contains(event.identity),
                    receivedAt: receivedAt)
                switch outcome {
                case .applied(let record):
                    if records[record.transactionID] != record { changed.append(record.transactionID) }
                    records[record.transactionID] = record
                    fallthrough
                case .ignored:
                    seen.insert(event.identity)
                    remembered.append(event.identity)
                case .duplicate, .rejected:
                    break
                }
                outcomes.append(outcome)
            }
            var saved: Set<String> = []
            let changedRecords = changed.filter { saved.insert($0).inserted }.map { records[$0]! }
            try await Self.save(connection, logger, changedRecords)
            if !remembered.isEmpty {
                let ids = remembered.map(\.transactionID)
                let kinds = remembered.map(\.kind.rawValue)
                let times = remembered.map(\.occurredAt.milliseconds)
                try await connection.query(
                    """
                    INSERT INTO call_events (transaction_id, event, occurred_at)
                    SELECT * FROM unnest(\(ids)::text[], \(kinds)::text[], \(times)::bigint[])
                    ON CONFLICT DO NOTHING
                    """, logger: logger)
            }
            return outcomes
        }
    }

    public func expireCalls(silentSince cutoff: Timestamp, now: Timestamp) async throws -> Int {
        try await guarded { connection in
            let rows = try await connection.query(
                """
                UPDATE calls SET live = false, ended_at = \(now.milliseconds), end_reason = \(EndReason.expired.rawValue),
                    last_received_at = \(now.milliseconds)
                WHERE live AND last_received_at < \(cutoff.milliseconds) RETURNING 1
                """, logger: self.logger)
            return try await rows.collect().count
        }
    }

    public func purgeCompletedCalls(endedBefore cutoff: Timestamp) async throws -> Int {
        var total = 0
        while true {
            let deleted = try await transaction { connection, logger in
                let rows = try await connection.query(
                    """
                    DELETE FROM calls WHERE transaction_id IN (
                        SELECT transaction_id FROM calls WHERE NOT live AND last_received_at < \(cutoff.milliseconds)
                        LIMIT \(purgeBatchSize))
                    RETURNING transaction_id
                    """, logger: logger)
                var ids: [String] = []
                for try await id in rows.decode(String.self) { ids.append(id) }
                try await connection.query("DELETE FROM call_events WHERE transaction_id = ANY(\(ids))", logger: logger)
                return ids.count
            }
            total += deleted
            if deleted < purgeBatchSize { return total }
        }
    }

    public func forEachCompletedCall(
        _ filter: CompletedCallFilter, _ body: @escaping @Sendable (CallRecord) throws -> Void
    ) async throws {
        var sql = QueryBuilder(
            "SELECT \(Self.callColumns) FROM calls WHERE NOT live AND destination_phone_number <> ''")
        if let networkID = filter.networkID { sql.and("network_id", networkID) }
        if let advertiserID = filter.advertiserID { sql.and("advertiser_id", advertiserID) }
        if let since = filter.since { sql.and("ended_at", since.milliseconds, comparison: ">=") }
        if let until = filter.until { sql.and("ended_at", until.milliseconds, comparison: "<") }
        sql.text += " ORDER BY ended_at, transaction_id"
        // Rows stream from the server as they are read, so memory stays flat.
        let built = sql.query
        try await guarded { connection, progress in
            for try await row in try await connection.query(built, logger: self.logger) {
                progress.touch()
                try body(try Self.decodeCall(row))
            }
        }
    }

    public func liveCallCount() async throws -> Int {
        try await guarded { connection in
            for try await count in try await connection.query("SELECT count(*) FROM calls WHERE live", logger: self.logger)
                .decode(Int64.self)
            {
                return Int(count)
            }
            return 0
        }
    }

    public func claimMaintenanceRound(job: String, now: Timestamp, every interval: Duration) async throws -> Bool {
        try await transaction { connection, logger in
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

    // MARK: Helpers

    /// Upserts `records` (at most one per call) in one statement: a column array each, unnested
    /// into rows. Arrays cannot carry NULL here, so an absent advertiser or external id travels as a
    /// value no call can have (id 0, empty text) and an ending as a flag beside it, and each turns
    /// back into NULL in the statement.
    private static func save(_ connection: PostgresConnection, _ logger: Logger, _ records: [CallRecord]) async throws {
        guard !records.isEmpty else { return }
        let ids = records.map(\.transactionID)
        let networks = records.map(\.networkID)
        let advertisers = records.map { $0.advertiserID ?? 0 }
        let statuses = records.map(\.status.rawValue)
        let externalIDs = records.map { $0.externalUniqueID ?? "" }
        let callings = records.map(\.callingPhoneNumber)
        let destinations = records.map(\.destinationPhoneNumber)
        let starts = records.map(\.callStart.milliseconds)
        let transfers = records.map(\.transferStart.milliseconds)
        let attributes = records.map(\.attributesJSON)
        let customData = records.map(\.customDataJSON)
        let lastEvents = records.map(\.lastEventAt.milliseconds)
        let lastReceived = records.map(\.lastReceivedAt.milliseconds)
        let hasEnded = records.map { $0.ended != nil }
        let endedAt = records.map { $0.ended?.at.milliseconds ?? 0 }
        let endReasons = records.map { $0.ended?.reason.rawValue ?? "" }
        let live = records.map(\.isLive)
        try await connection.query(
            """
            INSERT INTO calls (\(unescaped: callColumns), live)
            SELECT id, network, NULLIF(advertiser, 0), status, NULLIF(external_id, ''), calling, destination,
                call_start, transfer_start, attributes, custom_data, last_event, last_received,
                CASE WHEN has_ended THEN ended_at END, CASE WHEN has_ended THEN end_reason END, live
            FROM unnest(\(ids)::text[], \(networks)::bigint[], \(advertisers)::bigint[], \(statuses)::text[],
                \(externalIDs)::text[], \(callings)::text[], \(destinations)::text[], \(starts)::bigint[],
                \(transfers)::bigint[], \(attributes)::text[], \(customData)::text[], \(lastEvents)::bigint[],
                \(lastReceived)::bigint[], \(hasEnded)::boolean[], \(endedAt)::bigint[], \(endReasons)::text[],
                \(live)::boolean[])
                AS batch(id, network, advertiser, status, external_id, calling, destination, call_start,
                    transfer_start, attributes, custom_data, last_event, last_received, has_ended, ended_at, end_reason, live)
            ON CONFLICT (transaction_id) DO UPDATE SET
                network_id = excluded.network_id, advertiser_id = excluded.advertiser_id,
                call_status = excluded.call_status, external_unique_id = excluded.external_unique_id,
                calling_phone_number = excluded.calling_phone_number,
                destination_phone_number = excluded.destination_phone_number, call_start = excluded.call_start,
                transfer_start = excluded.transfer_start, attributes = excluded.attributes,
                custom_data = excluded.custom_data, last_event_at = excluded.last_event_at,
                last_received_at = excluded.last_received_at, ended_at = excluded.ended_at,
                end_reason = excluded.end_reason, live = excluded.live
            """, logger: logger)
    }

    private static func calls(_ rows: PostgresRowSequence) async throws -> [CallRecord] {
        var records: [CallRecord] = []
        for try await row in rows { records.append(try decodeCall(row)) }
        return records
    }

    private static func decodeCall(_ row: PostgresRow) throws -> CallRecord {
        let cells = row.makeRandomAccess()
        var ending: CallEnding?
        if let endedAt = try cells[13].decode(Int64?.self) {
            ending = CallEnding(
                at: Timestamp(milliseconds: endedAt),
                reason: EndReason(rawValue: try cells[14].decode(String?.self) ?? "") ?? .ended)
        }
        return CallRecord(
            transactionID: try cells[0].decode(String.self), networkID: try cells[1].decode(Int64.self),
            advertiserID: try cells[2].decode(Int64?.self),
            status: CallStatus(rawValue: try cells[3].decode(String.self)) ?? .bridged,
            externalUniqueID: try cells[4].decode(String?.self), callingPhoneNumber: try cells[5].decode(String.self),
            destinationPhoneNumber: try cells[6].decode(String.self),
            callStart: Timestamp(milliseconds: try cells[7].decode(Int64.self)),
            transferStart: Timestamp(milliseconds: try cells[8].decode(Int64.self)),
            attributes: CallRecord.attributes(fromJSON: try cells[9].decode(String.self)),
            customData: CallRecord.customData(fromJSON: try cells[10].decode(String.self)),
            lastEventAt: Timestamp(milliseconds: try cells[11].decode(Int64.self)),
            lastReceivedAt: Timestamp(milliseconds: try cells[12].decode(Int64.self)), ended: ending)
    }

    private static func requireNetwork(_ connection: PostgresConnection, _ logger: Logger, _ id: Int64) async throws {
        guard try await connection.query("SELECT 1 FROM networks WHERE id = \(id)", logger: logger).collect().count == 1
        else { throw CatalogError.unknown("network \(id)") }
    }

    private static func insertReturningID(
        _ connection: PostgresConnection, _ logger: Logger, what: String, _ query: PostgresQuery
    ) async throws -> Int64 {
        do {
            for try await id in try await connection.query(query, logger: logger).decode(Int64.self) { return id }
            throw StoreFailure(CatalogError.invalidArgument("insert returned no id"))
        } catch let error as PSQLError where error.sqlState == "23505" {
            throw CatalogError.duplicateName(what)
        }
    }

    static func binds(_ values: [any PostgresDynamicTypeEncodable]) -> PostgresBindings {
        var binds = PostgresBindings(capacity: values.count)
        for value in values { binds.append(value) }
        return binds
    }

    /// Runs `body` in a transaction on one pooled connection.
    private func transaction<T: Sendable>(
        statementDeadline: Duration? = nil, _ body: @escaping @Sendable (PostgresConnection, Logger) async throws -> T
    ) async throws -> T {
        try await guarded(statementDeadline: statementDeadline) { connection, _ in
            do {
                return try await connection.withTransaction(logger: self.logger) { connection in
                    try await body(connection, self.logger)
                }
            } catch let error as PostgresTransactionError {
                // Report what went wrong first: the body's own error (a domain error, say) or BEGIN's.
                throw error.closureError ?? error.beginError ?? error.commitError ?? error
            }
        }
    }

    /// Runs `body` on a pooled connection, held to two deadlines: one for leasing the connection,
    /// one for each statement once leased (so long exports and big batches are not cut, but a hung
    /// query is). Either passing, or the connection failing, means the database is unreachable
    /// (`DomainError.unavailable`): the breaker opens and later operations fail at once until the
    /// database answers again.
    private func guarded<T: Sendable>(
        statementDeadline: Duration? = nil, _ body: @escaping @Sendable (PostgresConnection, OperationProgress) async throws -> T
    ) async throws -> T {
        if breaker.isOpen { throw DomainError.unavailable }
        do {
            return try await client.withWatchedConnection(
                leaseDeadline: deadline, statementDeadline: statementDeadline ?? self.statementDeadline, body)
        } catch let error as DomainError {
            if error == .unavailable { breaker.trip() }
            throw error
        } catch let error as CatalogError {
            throw error
        } catch let error as StoreFailure {
            throw error
        } catch let error as PSQLError {
            let classified = Self.classify(error)
            if let domain = classified as? DomainError, domain == .unavailable { breaker.trip() }
            throw classified
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            // Connection refused, reset, timed out, stalled, pool closed: the database is not reachable.
            breaker.trip()
            throw DomainError.unavailable
        }
    }

    /// Like `guarded`, for bodies that make no progress of their own to report.
    private func guarded<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await guarded { connection, _ in try await body(connection) }
    }

    /// A query the server refused is a fault (500); a connection that failed is an outage (503).
    private static func classify(_ error: PSQLError) -> any Error {
        guard error.code == .server, let state = error.sqlState else { return DomainError.unavailable }
        // Class 08 (connection exception), 57P01–57P03 (shutting down, cannot connect now), 53 (resources).
        if state.hasPrefix("08") || state.hasPrefix("57P") || state.hasPrefix("53") { return DomainError.unavailable }
        return StoreFailure(error)
    }
}


extension PSQLError {
    var sqlState: String? { serverInfo?[.sqlState] }
}


/// Builds `WHERE … AND column = $n` clauses with bound values.
struct QueryBuilder {
    var text: String
    private var binds = PostgresBindings()

    init(_ text: String) {
        self.text = text
    }

    mutating func and(_ column: String, _ value: some PostgresDynamicTypeEncodable, comparison: String = "=") {
        binds.append(value)
        text += " AND \(column) \(comparison) $\(binds.count)"
    }

    var query: PostgresQuery { PostgresQuery(unsafeSQL: text, binds: binds) }
}
