import CIPDomain
import CIPStore
import Synchronization

/// The catalog held in memory, kept current by `CatalogRefresher` and reloaded on demand only where
/// a reload reveals nothing to the caller.
///
/// SPEC 2.1: a 401 must not say whether an organization exists. A request naming an organization
/// the token does not own is answered from the snapshot alone, whether the organization exists or
/// not, so both take the same path and the same time; the refresher brings new organizations in
/// within a second. A token's own organization, and the fields of a network the caller may act for,
/// are reloaded at once when missing: the caller learns nothing it may not know.
final class CatalogCache: Sendable {
    private let store: any CatalogStore
    private let snapshot = Mutex<Catalog?>(nil)
    /// One reload at a time; callers that miss together share it.
    private let reloading = Mutex<Task<Catalog, any Error>?>(nil)
    private let pendingRenames = Mutex<[AdvertiserRename]>([])

    init(store: any CatalogStore) {
        self.store = store
    }

    /// The current snapshot, loaded on first use.
    func current() async throws -> Catalog {
        if let current = snapshot.withLock({ $0 }) { return current }
        return try await reload()
    }

    /// Loads the catalog from the store and makes it the snapshot.
    @discardableResult
    func reload() async throws -> Catalog {
        let task = reloading.withLock { running -> Task<Catalog, any Error> in
            if let running { return running }
            let task = Task {
                defer { self.reloading.withLock { $0 = nil } }
                let fresh = try await self.store.loadCatalog()
                self.snapshot.withLock { $0 = fresh }
                return fresh
            }
            running = task
            return task
        }
        return try await task.value
    }

    /// `ref` resolved for a write of custom data `items` by `token`: reloaded when the snapshot lacks a
    /// field or a category value the items name — one added a moment ago, perhaps through another
    /// node — but only for a caller who may write for the network, so a reload reveals nothing.
    func resolve(
        _ ref: OrganizationRef, for token: TokenRecord, writing items: [CustomDataItem]
    ) async throws -> (Catalog, ResolvedOrganization?) {
        let (catalog, organization) = try await resolve(ref, for: token)
        guard let network = organization?.networkID, AccessPolicy.allows(token, toAct: .write, for: organization),
            !items.allSatisfy({ catalog.knowsField($0.name, value: $0.value, inNetwork: network) })
        else { return (catalog, organization) }
        let fresh = try await reload()
        return (fresh, fresh.resolve(ref))
    }

    /// Reloads, and returns the advertiser renames not yet carried onto live calls: those this
    /// reload reveals, after any an earlier attempt failed to carry (they are kept until `followed`).
    func refresh() async throws -> [AdvertiserRename] {
        let previous = snapshot.withLock { $0 }
        let fresh = try await reload()
        let found = previous.map { AdvertiserRename.between($0, fresh) } ?? []
        return pendingRenames.withLock { pending in
            pending += found
            return pending
        }
    }

    /// `rename` is carried onto the live calls.
    func followed(_ rename: AdvertiserRename) {
        pendingRenames.withLock { pending in pending.removeAll { $0 == rename } }
    }

    /// A snapshot that holds everything `isComplete` needs, if the database has it. Only for callers
    /// allowed to learn what is missing (the telephony feed, a caller's own network's fields).
    func catalog(satisfying isComplete: (Catalog) -> Bool) async throws -> Catalog {
        let current = try await current()
        return isComplete(current) ? current : try await reload()
    }

    /// `ref` resolved for `token`: reloaded when missing only if it is the token's own organization.
    func resolve(_ ref: OrganizationRef, for token: TokenRecord) async throws -> (Catalog, ResolvedOrganization?) {
        var catalog = try await current()
        if catalog.resolve(ref) == nil, token.organization == ref {
            catalog = try await reload()
        }
        return (catalog, catalog.resolve(ref))
    }
}
