import CIPDomain
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// A PostgreSQL database shared by several `cip serve` nodes and `cip admin`, through a postgres-nio
/// client pool. It is a `Service`: the pool runs for as long as `run()` does.
///
/// Every operation has a deadline; when the database cannot be reached the store throws
/// `DomainError.unavailable` (503) and recovers by itself once the pool can connect again.
public final class PostgresDatabase: CompletedCallStore, ChangeLogStore, Service {
    public let client: PostgresClient
    private let head: HeadConnection?
    let logger: Logger
    private let deadline: Duration
    private let statementDeadline: Duration
    private let breaker: CircuitBreaker
    private let background = BackgroundTasks()

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
        self.head = try PostgresURL.connectionConfiguration(from: url).map {
            HeadConnection(configuration: $0, deadline: statementDeadline, logger: logger)
        }
        self.logger = logger
        self.deadline = deadline
        self.statementDeadline = statementDeadline
        self.breaker = CircuitBreaker { [logger] in
            let answered = try? await client.withWatchedConnection(
                leaseDeadline: .seconds(1), statementDeadline: .seconds(1)
            ) {
                connection, _ in try await connection.query("SELECT 1", logger: logger).collect().count
            }
            return answered != nil
        }
    }

    /// The change log's head (`ReadBarrier`), on a connection of its own, whose queries run one at a
    /// time; through the pool for a URL that asks for TLS, or for another caller (`pooled`). Outages
    /// are classified and trip the breaker as in `guarded`.
    func latestSequence(pooled: Bool = false) async throws -> Int64 {
        guard let head, !pooled else {
            return try await guarded { connection, _ in
                try await PostgresCallRows(connection: connection, logger: self.logger).latestSequence()
            }
        }
        if breaker.isOpen { throw DomainError.unavailable }
        do {
            return try await head.latestSequence()
        } catch {
            let classified = PostgresErrors.classify(error)
            if let domain = classified as? DomainError, domain == .unavailable { breaker.trip() }
            throw classified
        }
    }

    public func run() async {
        await client.run()
    }

    /// Runs the pool in a task of its own until this database is released, for a caller that has no
    /// `ServiceGroup` (tests): the pool's connections close when the last user lets go.
    public func runPoolUntilReleased() {
        let client = self.client
        background.keep(Task { await client.run() })
    }

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
        _ = try await guarded { connection, _ in
            try await connection.query("SELECT 1", logger: self.logger).collect().count
        }
    }

    public func call(transactionID: String) async throws -> CallRecord? {
        try await guarded { connection, _ in
            try await connection.rows(
                "SELECT \(CallColumns.names) FROM calls WHERE transaction_id = $1", [.text(transactionID)], self.logger
            ).first.map(CallColumns.decode)
        }
    }

    public func forEachCompletedCall(
        _ filter: CompletedCallFilter, _ body: @escaping @Sendable (CallRecord) throws -> Void
    ) async throws {
        let (sql, values) = CallSQL.completed(.postgres, filter)
        // Rows stream from the server as they are read, so memory stays flat.
        try await guarded { connection, progress in
            for try await row in try await connection.query(PostgresQuery(sql, values), logger: self.logger) {
                progress.touch()
                try body(try CallColumns.decode(row.makeRandomAccess()))
            }
        }
    }

    public func changes(
        after sequence: Int64, visibleTo organization: OrganizationRef?, limit: Int
    ) async throws
        -> [LoggedChange]
    {
        let (sql, values) = ChangeRow.after(.postgres, sequence, visibleTo: organization, limit: limit)
        return try await guarded { connection, _ in
            try await connection.rows(sql, values, self.logger).map(ChangeRow.decode)
        }
    }

    public func changeLogBounds() async throws -> ChangeLogBounds {
        try await guarded { connection, _ in
            try await PostgresCallRows(connection: connection, logger: self.logger).bounds()
        }
    }

    /// Runs `body` in a transaction on one pooled connection.
    func transaction<T: Sendable>(
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
    /// query is). Errors are classified by `PostgresErrors`; an outage opens the breaker, and later
    /// operations fail at once until the database answers again.
    func guarded<T: Sendable>(
        statementDeadline: Duration? = nil,
        _ body: @escaping @Sendable (PostgresConnection, OperationProgress) async throws -> T
    ) async throws -> T {
        if breaker.isOpen { throw DomainError.unavailable }
        do {
            return try await client.withWatchedConnection(
                leaseDeadline: deadline, statementDeadline: statementDeadline ?? self.statementDeadline, body)
        } catch {
            let classified = PostgresErrors.classify(error)
            if let domain = classified as? DomainError, domain == .unavailable { breaker.trip() }
            throw classified
        }
    }
}
