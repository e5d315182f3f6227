import GRDB
import GRDBSQLite
import Synchronization

/// The serving writer's WAL checkpoints. SQLite's own run inside the commit that brings the WAL to
/// 1,000 pages, so the writes of that commit were answered only after a checkpoint's copying and
/// fsync. Here a group commit's checkpoint waits until the group's writes are answered, and runs
/// on the writer connection before the next group, as SQLite's would have (a checkpoint beside
/// the writer, on another connection, never let the WAL start over: see DECISIONS.md).
final class WALCheckpoints: Sendable {
    /// Four times SQLite's default `wal_autocheckpoint`: a checkpoint copies each page once however
    /// often the WAL holds it, so a longer WAL copies fewer pages a write (durable PUTs ~8 % less server
    /// CPU each; BENCHMARKS.md, tenth session), for a WAL of up to ~16 MB.
    static let pages: CInt = 4000
    private let pagesInWAL = Atomic<CInt>(0)
    /// While a group commits: a full WAL is checkpointed after its answers, not in its commit.
    private let groupCommitting = Atomic<Bool>(false)

    /// Takes over the writer connection's checkpoints from SQLite's autocheckpoint (which is itself
    /// a WAL hook, replaced by this one). Other commits on the connection (catalog writes, purges)
    /// checkpoint in their commit as before.
    func install(on db: Database) {
        // Retained for good: the connection may outlive the store that installs the hook.
        let context = Unmanaged.passRetained(self).toOpaque()
        sqlite3_wal_hook(
            db.sqliteConnection,
            { context, connection, name, pages in
                let checkpoints = Unmanaged<WALCheckpoints>.fromOpaque(context!).takeUnretainedValue()
                checkpoints.pagesInWAL.store(pages, ordering: .relaxed)
                if pages >= WALCheckpoints.pages && !checkpoints.groupCommitting.load(ordering: .relaxed) {
                    sqlite3_wal_checkpoint(connection, name)
                }
                return SQLITE_OK
            }, context)
    }

    /// Runs a group's commit and answers; a checkpoint they made due runs after them.
    func afterGroup<T>(_ db: Database, _ commitAndAnswer: () -> T) -> T {
        groupCommitting.store(true, ordering: .relaxed)
        let result = commitAndAnswer()
        groupCommitting.store(false, ordering: .relaxed)
        if pagesInWAL.load(ordering: .relaxed) >= Self.pages {
            // A checkpoint that cannot run now (a reader holds old pages) is tried after the next commit.
            _ = try? db.checkpoint(.passive)
            pagesInWAL.store(0, ordering: .relaxed)
        }
        return result
    }
}
