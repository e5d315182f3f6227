import CIPStore
import Foundation

/// A database the contract and HTTP tests run against; each test gets a fresh, empty one.
public enum StoreBackend: String, CustomStringConvertible, Sendable, CaseIterable {
    case sqlite

    /// Every backend this run can reach.
    public static var available: [StoreBackend] { [.sqlite] }

    public var description: String { rawValue }

    /// A new empty store, migrated; its files live in a fresh temporary folder.
    public func makeStore() async throws -> any CallStore {
        switch self {
        case .sqlite:
            let store = try SQLiteCallStore(path: TemporaryFolder.make().appendingPathComponent("cip.sqlite").path)
            try await store.migrate()
            return store
        }
    }
}

/// Temporary folders for test databases, left for the OS to clean.
public enum TemporaryFolder {
    public static func make() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cip-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
