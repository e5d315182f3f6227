import CIPDomain
import CIPTestSupport
import GRDB
import Logging
import PostgresNIO
import Testing

@testable import CIPStore

/// The feed's duplicate check finds each of a batch's events by the remembered events' key, so its
/// cost is the batch's and not the history of the batch's calls. (Until the eighth session of issue
/// 16 it read every remembered event of the calls: by the end of the overflow test's flood, 130,000
/// rows for each batch of 1,000 events.) Checked on each backend's plan of the statement.
@Suite("The feed's duplicate check looks up the batch's events by key")
struct DuplicateCheckPlanTests {
    @Test func onSQLite() async throws {
        let database = try await StoreBackend.freshSQLiteDatabase()
        let asked = #"[["T1","call_bridged",1000],["T2","call_ended",2000]]"#
        let plan = try await database.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + SQLiteCallRows.seenEventsSQL, arguments: [asked])
                .map { row -> String in row["detail"] }
        }
        let byWholeKey = "SEARCH call_events USING PRIMARY KEY (transaction_id=? AND event=? AND occurred_at=?)"
        #expect(plan.contains(byWholeKey), "\(plan)")
        #expect(!plan.contains { $0.hasPrefix("SCAN call_events") }, "\(plan)")
    }

    /// PostgreSQL chooses by statistics (a test's table is small enough to scan), so the plan is asked
    /// for with scans and whole-table joins turned off: what is left is whether each asked event can be
    /// found by the key (an `Index Cond` on it), which is what the statement must allow.
    @Test(.enabled(if: StoreBackend.postgresURL != nil))
    func onPostgreSQL() async throws {
        let database = try await StoreBackend.freshPostgresStore().database
        let logger = Logger(label: "test.postgres")
        let statement = SeenEvents(events: [
            EventIdentity(kind: .bridged, transactionID: "T1", occurredAt: Timestamp(milliseconds: 1000)),
            EventIdentity(kind: .ended, transactionID: "T2", occurredAt: Timestamp(milliseconds: 2000)),
        ])
        let plan = try await database.client.withConnection { connection in
            for setting in ["enable_seqscan", "enable_hashjoin", "enable_mergejoin", "enable_bitmapscan"] {
                try await connection.query(PostgresQuery(unsafeSQL: "SET \(setting) = off"), logger: logger)
            }
            let rows = try await connection.query(
                PostgresQuery(unsafeSQL: "EXPLAIN " + SeenEvents.sql, binds: try statement.makeBindings()),
                logger: logger)
            var lines: [String] = []
            for try await line in rows.decode(String.self) { lines.append(line) }
            return lines
        }
        let text = plan.joined(separator: "\n")
        #expect(text.contains("on call_events"), "\(text)")
        let keyLookup = plan.contains {
            $0.contains("Index Cond:") && $0.contains("transaction_id = ") && $0.contains("event = ")
                && $0.contains("occurred_at = ")
        }
        #expect(keyLookup, "\(text)")
    }
}
