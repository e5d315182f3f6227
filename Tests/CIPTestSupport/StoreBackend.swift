import CIPStore
import Foundation
import Logging
import PostgresNIO

/// A database the contract and HTTP tests run against; each test gets a fresh, empty one.
public enum StoreBackend: String, CustomStringConvertible, Sendable, CaseIterable {
    case sqlite
    case postgres

    /// The PostgreSQL server the tests use: `CIP_TEST_POSTGRES_URL` (scripts/test sets it).
    public static var postgresURL: String? {
        ProcessInfo.processInfo.environment["CIP_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Every backend this run can reach: SQLite always, PostgreSQL when a server is configured.
    public static var available: [StoreBackend] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    public var description: String { rawValue }

    /// A new empty store, migrated; SQLite in a fresh temporary folder, PostgreSQL in a fresh database.
    public func makeStore() async throws -> any ServingStore {
        switch self {
        case .sqlite: return try await Self.freshSQLiteDatabase().serve()
        case .postgres: return try await Self.freshPostgresStore().store
        }
    }

    /// A migrated SQLite database in a fresh temporary folder.
    public static func freshSQLiteDatabase() async throws -> SQLiteDatabase {
        let database = try SQLiteDatabase(path: TemporaryFolder.make().appendingPathComponent("cip.sqlite").path)
        try await database.migrate()
        return database
    }

    /// A PostgreSQL store on a fresh database, migrated and reading calls from memory, with the
    /// database and its URL for tests that look at them directly.
    public static func freshPostgresStore() async throws -> (
        url: String, database: CIPStore.PostgresDatabase, store: PostgresCallStore
    ) {
        let url = try await freshPostgresDatabase()
        let database = try postgresDatabase(url)
        let store = PostgresCallStore(database: database, readsFromMemory: true)
        // The pool and the sequencer stop when the test lets go of the store.
        store.runUntilReleased()
        try await store.migrate()
        return (url, database, store)
    }

    /// A handle on the test database at `url`. Many tests share two cores and one server: waiting
    /// for a connection may take a while, which is load, not an outage (the outage tests run
    /// `cip serve` with its own deadline).
    public static func postgresDatabase(
        _ url: String, label: String = "test.postgres", statementDeadline: Duration = .seconds(10)
    ) throws -> CIPStore.PostgresDatabase {
        try CIPStore.PostgresDatabase(
            url: url, logger: Logger(label: label), deadline: .seconds(30), statementDeadline: statementDeadline)
    }

    /// A URL of a new, empty database on the test server.
    public static func freshPostgresDatabase() async throws -> String {
        guard let base = postgresURL, var components = URLComponents(string: base) else {
            throw StoreFailure(URLError(.badURL))
        }
        let name = "cip_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try await PostgresAdmin.shared.execute("CREATE DATABASE \(name)")
        components.path = "/" + name
        return components.string!
    }
}

/// One connection pool to the test server's maintenance database, for creating databases.
final class PostgresAdmin: Sendable {
    static let shared = PostgresAdmin()
    private let client: PostgresClient?

    private init() {
        guard let url = StoreBackend.postgresURL, let components = URLComponents(string: url) else {
            client = nil
            return
        }
        let configuration = PostgresClient.Configuration(
            host: components.host ?? "127.0.0.1", port: components.port ?? 5432,
            username: components.user ?? "postgres",
            password: components.password, database: "postgres", tls: .disable)
        let client = PostgresClient(
            configuration: configuration, backgroundLogger: Logger(label: "test.postgres.admin"))
        Task { await client.run() }
        self.client = client
    }

    func execute(_ sql: String) async throws {
        guard let client else { throw StoreFailure(URLError(.badURL)) }
        try await client.query(PostgresQuery(unsafeSQL: sql))
    }
}

/// Temporary folders for test databases, inside one folder per test process that is removed when
/// the process exits (left for the OS to clean, a few hundred runs filled gigabytes of `/tmp`).
public enum TemporaryFolder {
    private static let root = FileManager.default.temporaryDirectory
        .appendingPathComponent("cip-tests-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString)")
    private static let removedAtExit: Void = {
        atexit { try? FileManager.default.removeItem(at: TemporaryFolder.root) }
    }()

    public static func make() throws -> URL {
        _ = removedAtExit
        let url = root.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
