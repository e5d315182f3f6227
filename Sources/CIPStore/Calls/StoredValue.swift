/// A value of a stored column, independent of the backend that binds it.
enum StoredValue: Sendable, Hashable {
    case integer(Int64)
    case text(String)
    case null
}

/// The type of a stored column: what each backend binds and declares it as.
enum StoredType: Sendable {
    case integer
    case text
}

/// A row read back from either backend, read by column name (never by position).
protocol StoredRow {
    func integer(_ column: String) throws -> Int64?
    func text(_ column: String) throws -> String?
}

extension StoredRow {
    func requiredInteger(_ column: String) throws -> Int64 {
        guard let value = try integer(column) else { throw StoredRowError.missing(column) }
        return value
    }

    func requiredText(_ column: String) throws -> String {
        guard let value = try text(column) else { throw StoredRowError.missing(column) }
        return value
    }
}

/// A stored row that does not hold what its schema promises: a fault of the service (500).
enum StoredRowError: Error, CustomStringConvertible {
    case missing(String)
    case invalid(String, String)

    var description: String {
        switch self {
        case .missing(let column): "column \(column) is missing or null"
        case .invalid(let column, let value): "column \(column) holds an invalid value \(value)"
        }
    }
}
