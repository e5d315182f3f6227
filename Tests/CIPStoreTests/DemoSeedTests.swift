import CIPDomain
import CIPSimulator
import CIPStore
import CIPTestSupport
import Foundation
import Testing

@Suite("serve --demo seeding (SPEC 7)")
struct DemoSeedTests {
    @Test(arguments: StoreBackend.available)
    func seedsAnEmptyDatabaseOnce(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let seed = try #require(try await DemoSeed.seedIfEmpty(store))
        #expect(seed.network.name == DemoSeed.networkName && seed.advertisers.count == 3)
        let catalog = try await store.loadCatalog()
        for field in SimulatedFields.all {
            #expect(catalog.fields(ofNetwork: seed.network.id)[field.name]?.dataType == field.type)
        }
        let tokens = try await store.listTokens()
        #expect(tokens.count == 4)
        #expect(try await store.token(hash: TokenHash(of: seed.readOnlyToken))?.scope == .read)
        #expect(try await store.token(hash: TokenHash(of: seed.telephonyToken))?.kind == .telephony)

        #expect(try await DemoSeed.seedIfEmpty(store) == nil)
        #expect(try await store.loadCatalog().networks.count == 1)
        #expect(try await store.listTokens().count == 4)
        let existing = try #require(try await DemoSeed.existingNetwork(store))
        #expect(existing.0 == seed.network && existing.1 == seed.advertisers)
    }

    @Test(arguments: StoreBackend.available)
    func leavesADatabaseWithOtherDataAlone(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        _ = try await store.createNetwork(name: "Production", country: "US")
        #expect(try await DemoSeed.seedIfEmpty(store) == nil)
        #expect(try await DemoSeed.existingNetwork(store) == nil)
        #expect(try await store.loadCatalog().networks.count == 1)
    }

    @Test func welcomeShowsEveryTokenAndEndpoint() async throws {
        let store = try await StoreBackend.sqlite.makeStore()
        let seed = try #require(try await DemoSeed.seedIfEmpty(store))
        let text = seed.welcome(baseURL: "http://127.0.0.1:8080")
        for token in [seed.networkToken, seed.advertiserToken, seed.readOnlyToken, seed.telephonyToken] {
            #expect(text.contains(token))
        }
        for path in [
            "current_calls.json", "calls_in_progress.json", "call_events.json", "/health", "/ready", "/metrics",
        ] {
            #expect(text.contains(path))
        }
        // SPEC 10 / issue 12: the wallboard comes first, with the token to paste just below it.
        let lines = text.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        #expect(lines[1].contains("wallboard at http://127.0.0.1:8080/"))
        #expect(lines[2].contains("network, id \(seed.network.id)"))
        #expect(lines[3] == seed.readOnlyToken)
    }
}
