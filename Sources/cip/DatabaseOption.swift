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

    /// Opens the configured store and brings its schema up to date.
    func openStore(logger: Logger = Logger(label: "cip.store")) async throws -> any CallStore {
        if database.hasPrefix("postgres://") || database.hasPrefix("postgresql://") {
            throw ValidationError("PostgreSQL is not supported by this build yet; use an SQLite file path")
        }
        let store = try SQLiteCallStore(path: database, logger: logger)
        try await store.migrate()
        return store
    }
}

/// Environment variables behind the flags.
enum Environment {
    static func value(_ name: String) -> String? {
        guard let text = ProcessInfo.processInfo.environment[name], !text.isEmpty else { return nil }
        return text
    }
}
