import CIPDomain
import CIPStore
import Synchronization

/// The catalog held in memory. Entries are only ever added, so a snapshot never lies about what it
/// holds; when a lookup misses, the snapshot is reloaded once before the answer is "unknown".
final class CatalogCache: Sendable {
    private let store: any CallStore
    private let snapshot = Mutex<Catalog?>(nil)

    init(store: any CallStore) {
        self.store = store
    }

    /// A snapshot that holds everything `isComplete` needs, if the database has it.
    func catalog(satisfying isComplete: (Catalog) -> Bool) async throws -> Catalog {
        if let current = snapshot.withLock({ $0 }), isComplete(current) {
            return current
        }
        let fresh = try await store.loadCatalog()
        snapshot.withLock { $0 = fresh }
        return fresh
    }

    /// A snapshot in which `ref` resolves, if it exists.
    func resolve(_ ref: OrganizationRef) async throws -> (Catalog, ResolvedOrganization?) {
        let catalog = try await catalog { $0.resolve(ref) != nil }
        return (catalog, catalog.resolve(ref))
    }
}
