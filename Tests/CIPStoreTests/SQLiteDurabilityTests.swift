import CIPTestSupport
import GRDB
import Testing

@testable import CIPStore

/// An acknowledged write survives power loss: every commit of the serving writer is synced.
@Suite struct SQLiteDurabilityTests {
    @Test func everyConnectionSyncsEachCommit() async throws {
        let path = try TemporaryFolder.make().appendingPathComponent("cip.sqlite").path
        let database = try SQLiteDatabase(path: path)
        try await database.migrate()
        let store = try await database.serve()
        defer { try? store.close() }
        // 2 is FULL: in WAL mode, the WAL is synced at every commit (NORMAL only at checkpoints).
        let writer = try await database.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
        let reader = try await database.pool.read { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") }
        #expect(writer == 2)
        #expect(reader == 2)
    }
}
