import CIPDomain

/// How a backend writes a bound parameter: SQLite `?`, PostgreSQL `$1`, `$2`, …
enum SQLDialect: Sendable {
    case sqlite
    case postgres

    func placeholder(_ position: Int) -> String {
        switch self {
        case .sqlite: "?"
        case .postgres: "$\(position)"
        }
    }
}

/// `… AND column = ?` conditions with bound values, for either backend. Column names and fixed
/// fragments are code, never input; every value is bound.
struct SQLConditions: Sendable {
    let dialect: SQLDialect
    private var clauses: [String]
    private(set) var values: [StoredValue] = []

    init(_ dialect: SQLDialect, _ fixed: String...) {
        self.dialect = dialect
        self.clauses = fixed
    }

    mutating func and(_ column: String, _ value: StoredValue, comparison: String = "=") {
        values.append(value)
        clauses.append("\(column) \(comparison) \(dialect.placeholder(values.count))")
    }

    /// `… AND (a = ? OR b = ?)`, one value compared with several columns.
    mutating func and(anyOf columns: [String], equal value: StoredValue) {
        let tests = columns.map { "\($0) = \(bind(value))" }
        clauses.append("(" + tests.joined(separator: " OR ") + ")")
    }

    /// `… AND column IN (?, …)`.
    mutating func and(_ column: String, in candidates: [StoredValue]) {
        let list = candidates.map { bind($0) }.joined(separator: ", ")
        clauses.append("\(column) IN (\(list))")
    }

    /// `… AND (transfer_start < ? OR (transfer_start = ? AND transaction_id > ?))`: the calls after
    /// `position` in SPEC 2.2's order (a paging cursor's keyset).
    mutating func and(after position: CallPosition) {
        let time = StoredValue.integer(position.transferStart.milliseconds)
        let earlier = bind(time)
        let same = bind(time)
        let later = bind(.text(position.transactionID))
        clauses.append("(transfer_start < \(earlier) OR (transfer_start = \(same) AND transaction_id > \(later)))")
    }

    /// A placeholder for a value bound after the conditions' own (a LIMIT, say).
    mutating func bind(_ value: StoredValue) -> String {
        values.append(value)
        return dialect.placeholder(values.count)
    }

    var sql: String { clauses.isEmpty ? "TRUE" : clauses.joined(separator: " AND ") }
}
