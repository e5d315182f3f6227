import ArgumentParser
import CIPStore
import Foundation
import Logging

/// `--database`, shared by `serve` and every `admin` command (SPEC 6 and 7).
struct DatabaseOption: ParsableArguments {
    @Option(
        name: .long,
        help: "SQLite file path, or a postgres:// URL (env CIP_DATABASE).")
    var database: String = Environment.value("CIP_DATABASE") ?? "./cip.sqlite"

    /// Admin commands print only their result and one-line errors.
    static var quietLogger: Logger {
        var logger = Logger(label: "cip.store")
        logger.logLevel = .error
        return logger
    }

    var isPostgres: Bool { database.hasPrefix("postgres://") || database.hasPrefix("postgresql://") }

    /// Runs `body` with the configured store, its schema brought up to date. A PostgreSQL store's
    /// connection pool runs for as long as `body` does.
    func withStore<T>(
        logger: Logger = DatabaseOption.quietLogger, statementDeadline: Duration = .seconds(10),
        _ body: (any CallStore) async throws -> T
    ) async throws -> T {
        guard isPostgres else {
            let store = try SQLiteCallStore(path: database, logger: logger)
            try await store.migrate()
            return try await body(store)
        }
        let store = try PostgresCallStore(url: database, logger: logger, statementDeadline: statementDeadline)
        let pool = Task { await store.client.run() }
        defer { pool.cancel() }
        // Give the pool's task a moment to start, so the first lease does not find it idle (and warn).
        try await Task.sleep(for: .milliseconds(20))
        try await store.migrate()
        return try await body(store)
    }
}

/// Environment variables behind the flags.
enum Environment {
    static func value(_ name: String) -> String? {
        guard let text = ProcessInfo.processInfo.environment[name], !text.isEmpty else { return nil }
        return text
    }
}
