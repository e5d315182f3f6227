import GRDB
import PostgresNIO

/// One bound statement, run alone and answered with its rows decoded: the only primitive a table
/// whose every operation is one statement needs from a backend, so that its rules are written once
/// (the webhooks' table is one).
protocol StatementRunner: Sendable {
    var dialect: SQLDialect { get }
    /// Runs `sql` (in its own transaction; on SQLite a writing one when `writes`) and decodes each row.
    func run<T: Sendable>(
        _ sql: String, _ values: [StoredValue], writes: Bool, _ decode: @escaping @Sendable (any StoredRow) throws -> T
    ) async throws -> [T]
}

extension SQLiteDatabase: StatementRunner {
    var dialect: SQLDialect { .sqlite }

    func run<T: Sendable>(
        _ sql: String, _ values: [StoredValue], writes: Bool, _ decode: @escaping @Sendable (any StoredRow) throws -> T
    ) async throws -> [T] {
        let body: @Sendable (Database) throws -> [T] = { db in
            try Row.fetchAll(db, sql: sql, arguments: StatementArguments(values)).map(decode)
        }
        return writes ? try await write(body) : try await read(body)
    }
}

extension PostgresDatabase: StatementRunner {
    var dialect: SQLDialect { .postgres }

    func run<T: Sendable>(
        _ sql: String, _ values: [StoredValue], writes: Bool, _ decode: @escaping @Sendable (any StoredRow) throws -> T
    ) async throws -> [T] {
        try await guarded { connection, _ in
            try await connection.rows(sql, values, self.logger).map(decode)
        }
    }
}
