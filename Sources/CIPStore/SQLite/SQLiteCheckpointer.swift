import GRDB
import Logging

/// Copies the WAL's pages back into the database file, on a connection and a thread of its own, so
/// that the one writer never does: a serving store turns the writer's automatic checkpoints off
/// (they ran inside a commit every 1,000 pages, and took nearly a fifth of a durable PUT's writer time).
/// A passive checkpoint every `interval` keeps the WAL short; it waits for no reader or writer,
/// and SQLite restarts the WAL from its start once all of it is copied.
struct SQLiteCheckpointer: Sendable {
    static let interval = Duration.milliseconds(100)
    private let connection: DatabaseQueue
    private let logger: Logger

    init(path: String, logger: Logger) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        connection = try DatabaseQueue(path: path, configuration: configuration)
        self.logger = logger
    }

    /// Checkpoints until the task is cancelled, then closes its connection.
    func run() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: Self.interval)
            do {
                _ = try await connection.writeWithoutTransaction { db in try db.checkpoint(.passive) }
            } catch {
                // Cancelled while checkpointing: GRDB interrupts the statement; nothing went wrong.
                if Task.isCancelled { break }
                logger.warning("WAL checkpoint failed", metadata: ["error": "\(error)"])
            }
        }
        try? connection.close()
    }
}
