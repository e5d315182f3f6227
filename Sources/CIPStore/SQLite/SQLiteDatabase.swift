import CIPDomain
import Foundation
import GRDB
import Logging

/// The embedded database: one SQLite file in WAL mode, shared safely by `cip admin` processes.
///
/// It reads and writes the catalog, tokens and completed calls. Calls in progress are written only
/// by the `SQLiteCallStore` that `serve()` returns, which holds the file's serving lock: the one
/// writer of calls is a rule of the types, not of the callers.
public final class SQLiteDatabase: CompletedCallStore, ChangeLogStore {
    let pool: DatabasePool
    let path: String
    let logger: Logger

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
        // GRDB sets the writer to NORMAL once it is in WAL mode, after `prepareDatabase`: in WAL mode
        // that syncs only at checkpoints, and a commit acknowledged since the last one could be lost
        // on power loss. The writer commits every acknowledged write: FULL again.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        self.path = path
        self.logger = logger
    }

    /// Takes the file's serving lock (a second server on the file is refused with
    /// `ServingLockError`) and returns the store that writes its calls, its live calls loaded.
    public func serve() async throws -> SQLiteCallStore {
        try await SQLiteCallStore(database: self, servingLock: ServingLock(databasePath: path))
    }

    /// Closes the file and lets another server use it; the database cannot be used afterwards.
    public func close() throws {
        try pool.close()
    }

    public func migrate() async throws {
        do {
            try SQLiteMigrations.migrator.migrate(pool)
        } catch {
            throw SQLiteErrors.classify(error)
        }
    }

    public func ping() async throws {
        try await read { db in
            _ = try Int.fetchOne(db, sql: "SELECT 1")
        }
    }

    public func call(transactionID: String) async throws -> CallRecord? {
        try await read { db in
            try Row.fetchOne(
                db.cachedStatement(sql: "SELECT \(CallColumns.names) FROM calls WHERE transaction_id = ?"),
                arguments: [transactionID]
            ).map(CallColumns.decode)
        }
    }

    public func forEachCompletedCall(
        _ filter: CompletedCallFilter, _ body: @escaping @Sendable (CallRecord) throws -> Void
    ) async throws {
        let (sql, values) = CallSQL.completed(.sqlite, filter)
        try await read { db in
            let cursor = try Row.fetchCursor(db, sql: sql, arguments: StatementArguments(values))
            while let row = try cursor.next() {
                try body(CallColumns.decode(row))
            }
        }
    }

    public func changes(
        after sequence: Int64, visibleTo organization: OrganizationRef?, limit: Int
    ) async throws
        -> [LoggedChange]
    {
        let (sql, values) = ChangeRow.after(.sqlite, sequence, visibleTo: organization, limit: limit)
        return try await read { db in
            try Row.fetchAll(db, sql: sql, arguments: StatementArguments(values)).map(ChangeRow.decode)
        }
    }

    public func changeLogBounds() async throws -> ChangeLogBounds {
        try await read { db in try SQLiteCallRows(db: db).bounds() }
    }

    /// Runs a read; errors are classified by `SQLiteErrors`.
    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.read(body)
        } catch {
            throw SQLiteErrors.classify(error)
        }
    }

    /// Runs a write transaction; errors are classified by `SQLiteErrors`.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await pool.write(body)
        } catch {
            throw SQLiteErrors.classify(error)
        }
    }
}

extension Row: StoredRow {
    func integer(_ column: String) throws -> Int64? {
        try decode(Int64?.self, forColumn: column)
    }

    func text(_ column: String) throws -> String? {
        try decode(String?.self, forColumn: column)
    }
}

extension StatementArguments {
    init(_ values: [StoredValue]) {
        self.init(values.map(\.databaseValue))
    }
}

extension StoredValue {
    var databaseValue: DatabaseValue {
        switch self {
        case .integer(let value): value.databaseValue
        case .text(let value): value.databaseValue
        case .null: .null
        }
    }
}
