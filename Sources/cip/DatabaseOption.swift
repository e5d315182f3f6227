import ArgumentParser
import CIPDomain
import CIPStore
import Foundation
import Logging
import ServiceLifecycle

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

    /// Runs `body` with the configured database, its schema brought up to date: the catalog, tokens
    /// and completed calls, never a call in progress. A PostgreSQL pool runs for as long as `body` does.
    func withAdminStore<T>(
        logger: Logger = DatabaseOption.quietLogger, _ body: (any AdminStore) async throws -> T
    ) async throws -> T {
        try await withWebhookStore(logger: logger) { store, _ in try await body(store) }
    }

    /// `withAdminStore`, with the webhooks' table of the same database besides.
    func withWebhookStore<T>(
        logger: Logger = DatabaseOption.quietLogger, _ body: (any AdminStore, WebhookTable) async throws -> T
    ) async throws -> T {
        guard isPostgres else {
            let database = try SQLiteDatabase(path: database, logger: logger)
            try await database.migrate()
            return try await body(database, database.webhookTable)
        }
        let database = try PostgresDatabase(url: database, logger: logger)
        let pool = Task { await database.run() }
        defer { pool.cancel() }
        try await database.migrate()
        return try await body(database, database.webhookTable)
    }

    /// Carries an advertiser's rename onto its live calls from the command line, so that it holds
    /// even when no server is running to notice it. A server that is running notices it too (within a
    /// second) and finds nothing left to change; on SQLite, while a server serves the file, only it
    /// may write calls, so this leaves the rename to it.
    func carryRename(_ rename: AdvertiserRename) async throws {
        guard isPostgres else {
            let database = try SQLiteDatabase(path: database, logger: Self.quietLogger)
            let store: SQLiteCallStore
            do { store = try await database.serve() } catch is ServingLockError { return }
            defer { try? store.close() }
            _ = try await store.followRename(rename)
            return
        }
        // A write waits for its changes to be numbered: this process numbers them itself.
        let database = try PostgresDatabase(url: database, logger: Self.quietLogger)
        let pool = Task { await database.run() }
        defer { pool.cancel() }
        let store = PostgresCallStore(database: database)
        let sequencer = Task { try? await store.sequencer.run() }
        defer { sequencer.cancel() }
        _ = try await store.followRename(rename)
    }

    /// The store `serve` writes calls through, with what must run beside it. An SQLite file is
    /// migrated and its serving lock taken here, at start; PostgreSQL's pool and change sequencer are
    /// services of the server's group, and its migrations run once the pool does (`prepare`).
    func servingStore(logger: Logger, statementDeadline: Duration, memoryReads: Bool) async throws -> ServingStores {
        guard isPostgres else {
            let database = try SQLiteDatabase(path: database, logger: logger)
            try await database.migrate()
            return ServingStores(
                store: try await database.serve(), webhooks: database.webhookTable, services: [], prepare: {})
        }
        let database = try PostgresDatabase(url: database, logger: logger, statementDeadline: statementDeadline)
        let store = PostgresCallStore(database: database, readsFromMemory: memoryReads)
        return ServingStores(
            store: store, webhooks: database.webhookTable, services: store.services,
            prepare: { try await database.migrate() })
    }
}

/// A serving store, the services it needs running, and the work to do once they run.
struct ServingStores {
    let store: any ServingStore
    /// The same database, for the webhooks' table (read and written by `cip admin` too).
    let webhooks: WebhookTable
    let services: [any Service]
    let prepare: @Sendable () async throws -> Void
}

/// Environment variables behind the flags.
enum Environment {
    static func value(_ name: String) -> String? {
        guard let text = ProcessInfo.processInfo.environment[name], !text.isEmpty else { return nil }
        return text
    }

    /// A flag's environment variable: `1`, `true` or `yes` set it, `0`, `false`, `no` or `off` clear
    /// it; unset (or anything else) leaves `fallback`.
    static func flag(_ name: String, else fallback: Bool = false) -> Bool {
        switch value(name)?.lowercased() {
        case "1", "true", "yes": return true
        case "0", "false", "no", "off": return false
        default: return fallback
        }
    }
}
