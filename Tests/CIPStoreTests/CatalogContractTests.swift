import CIPDomain
import CIPStore
import CIPTestSupport
import Testing

@Suite("Store contract: catalog and tokens")
struct CatalogContractTests {
    @Test(arguments: StoreBackend.available)
    func namesAreUniqueWhereSPECSaysSo(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let network = try await store.createNetwork(name: "N", country: "US")
        await #expect(throws: CatalogError.self) { try await store.createNetwork(name: "N", country: "US") }
        let other = try await store.createNetwork(name: "M", country: "US")
        _ = try await store.createAdvertiser(networkID: network.id, name: "Adv", idFromNetwork: nil)
        await #expect(throws: CatalogError.self) {
            try await store.createAdvertiser(networkID: network.id, name: "Adv", idFromNetwork: nil)
        }
        _ = try await store.createAdvertiser(networkID: other.id, name: "Adv", idFromNetwork: nil)
        _ = try await store.createField(networkID: network.id, name: "F", dataType: .signal, allowedValues: [])
        await #expect(throws: CatalogError.self) {
            try await store.createField(networkID: network.id, name: "F", dataType: .shortText, allowedValues: [])
        }
        _ = try await store.createField(networkID: other.id, name: "F", dataType: .category, allowedValues: ["x", "y"])
        let catalog = try await store.loadCatalog()
        #expect(catalog.networks.count == 2 && catalog.advertisers.count == 2)
        #expect(catalog.fields(ofNetwork: other.id)["F"]?.allowedValues == ["x", "y"])
        #expect(catalog.fields(ofNetwork: network.id)["F"]?.dataType == .signal)
    }

    @Test(arguments: StoreBackend.available)
    func unknownParentsAreRefused(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        await #expect(throws: CatalogError.unknown("network 42")) {
            try await store.createAdvertiser(networkID: 42, name: "A", idFromNetwork: nil)
        }
        await #expect(throws: CatalogError.unknown("network 42")) {
            try await store.createField(networkID: 42, name: "F", dataType: .signal, allowedValues: [])
        }
        await #expect(throws: CatalogError.self) {
            try await store.createToken(
                hash: TokenHash(of: "x"), kind: .organization, organization: .init(type: .advertiser, id: 9),
                scope: .write, description: nil, createdAt: .now())
        }
    }

    @Test(arguments: StoreBackend.available)
    func tokensAreStoredByHashAndRevocable(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let network = try await store.createNetwork(name: "N", country: "US")
        let created = try await store.createToken(
            hash: TokenHash(of: "secret"), kind: .organization, organization: .init(type: .network, id: network.id),
            scope: .read, description: "crm", createdAt: Timestamp(milliseconds: 1000))
        let found = try #require(try await store.token(hash: TokenHash(of: "secret")))
        #expect(found == created && found.scope == .read && !found.revoked)
        #expect(try await store.token(hash: TokenHash(of: "other")) == nil)
        let revoked = try #require(try await store.revokeToken(id: created.id))
        #expect(revoked.revoked)
        #expect(try await store.token(hash: TokenHash(of: "secret"))?.revoked == true)
        #expect(try await store.revokeToken(id: 999) == nil)
        #expect(try await store.listTokens().map(\.id) == [created.id])
    }
}
