import CIPTestSupport
import GRDB
import Testing

@testable import CIPStore

/// The write path's own binding of values (`Statement.execute(values:in:)`), against a real SQLite file.
@Suite struct StatementValuesTests {
    private func database() throws -> DatabaseQueue {
        let path = try TemporaryFolder.make().appendingPathComponent("values.sqlite").path
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER, note TEXT)")
        }
        return queue
    }

    @Test func bindsEveryKindOfValueAndReusesTheStatement() throws {
        let queue = try database()
        try queue.write { db in
            let insert = try db.cachedStatement(sql: "INSERT INTO t (id, n, note) VALUES (?, ?, ?)")
            try insert.execute(values: [.text("a"), .integer(-7), .text("é ☎ \u{1F4DE}")], in: db)
            try insert.execute(values: [.text(""), .integer(Int64.max), .null], in: db)
        }
        let rows = try queue.read { db in try Row.fetchAll(db, sql: "SELECT id, n, note FROM t ORDER BY id") }
        #expect(rows.map { $0["id"] as String } == ["", "a"])
        #expect(rows.map { $0["n"] as Int64 } == [Int64.max, -7])
        #expect(rows.map { $0["note"] as String? } == [nil, "é ☎ \u{1F4DE}"])
    }

    @Test func aConstraintViolationIsDatabaseErrorWithItsExtendedCode() throws {
        let queue = try database()
        try queue.write { db in
            let insert = try db.cachedStatement(sql: "INSERT INTO t (id, n, note) VALUES (?, ?, ?)")
            try insert.execute(values: [.text("a"), .integer(1), .null], in: db)
            #expect {
                try insert.execute(values: [.text("a"), .integer(2), .null], in: db)
            } throws: { error in
                (error as? DatabaseError)?.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY
            }
            // The statement is usable again after the failure.
            try insert.execute(values: [.text("b"), .integer(3), .null], in: db)
        }
        #expect(try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM t") } == 2)
    }

    @Test func aStatementThatReturnsRowsIsRefused() throws {
        let queue = try database()
        try queue.write { db in
            let insert = try db.cachedStatement(sql: "INSERT INTO t (id, n, note) VALUES (?, ?, ?) RETURNING id")
            #expect {
                try insert.execute(values: [.text("a"), .integer(1), .null], in: db)
            } throws: { error in
                (error as? DatabaseError)?.resultCode == .SQLITE_MISUSE
            }
        }
    }
}
