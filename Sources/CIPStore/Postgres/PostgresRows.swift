import Logging
import PostgresNIO

extension PostgresRandomAccessRow: StoredRow {
    func integer(_ column: String) throws -> Int64? {
        guard contains(column) else { throw StoredRowError.missing(column) }
        return try self[column].decode(Int64?.self)
    }

    func text(_ column: String) throws -> String? {
        guard contains(column) else { throw StoredRowError.missing(column) }
        return try self[column].decode(String?.self)
    }
}

extension PostgresQuery {
    /// A statement written by `CallSQL` or `ChangeRow`, with its values bound in order.
    init(_ sql: String, _ values: [StoredValue]) {
        var binds = PostgresBindings(capacity: values.count)
        for value in values {
            switch value {
            case .integer(let number): binds.append(number)
            case .text(let text): binds.append(text)
            case .null: binds.appendNull()
            }
        }
        self.init(unsafeSQL: sql, binds: binds)
    }
}

extension PostgresConnection {
    /// Every row of a statement, read by name.
    func rows(_ sql: String, _ values: [StoredValue], _ logger: Logger) async throws -> [PostgresRandomAccessRow] {
        var rows: [PostgresRandomAccessRow] = []
        for try await row in try await query(PostgresQuery(sql, values), logger: logger) {
            rows.append(row.makeRandomAccess())
        }
        return rows
    }
}
