import CIPDomain
import CIPHTTP
import CIPSimulator
import CIPTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing

@Suite("cip simulate against a live server")
struct SimulatorTests {
    @Test(arguments: StoreBackend.available)
    func simulatedTrafficIsAcceptedAndStartsAtSteadyState(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let seed = try #require(try await DemoSeed.seedIfEmpty(store))
        let app = Application(
            router: buildRouter(services: APIServices(store: store, settings: APISettings())), logger: quietTestLogger)
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let settings = SimulationSettings(
                callsPerSecond: 5, duration: .seconds(3), medianCallSeconds: 60, callLengthSigma: 0.5,
                networkID: seed.network.id, advertiserIDs: seed.advertisers.map(\.id))
            let lines = Mutex<[String]>([])
            let simulator = Simulator(
                url: URL(string: "http://127.0.0.1:\(port)")!, token: seed.telephonyToken, settings: settings,
                logger: Logger(label: "test"), onTerminal: false, write: { text in lines.withLock { $0.append(text) } })
            let stats = await simulator.simulate()
            #expect(stats.errors == 0)
            // Warm start: about rate × mean length (5 × 60·e^0.125 ≈ 340) calls from the first second.
            #expect(stats.started >= 300)
            #expect(try await store.liveCallCount() == stats.live)
            let catalog = try await store.loadCatalog()
            let calls = try await store.currentCalls(
                CallQuery(
                    scope: CallScope(catalog.resolve(OrganizationRef(type: .network, id: seed.network.id))!),
                    transactionID: nil, externalUniqueID: nil, phonePair: nil))
            #expect(calls.contains { !$0.customData.isEmpty })
            #expect(Set(calls.compactMap(\.advertiserID)) == Set(seed.advertisers.map(\.id)))
            #expect(lines.withLock { $0.last?.hasPrefix("calls started") } == true)
        }
    }

    @Test func expectedLiveCallsFollowLittlesLaw() {
        let settings = SimulationSettings(callsPerSecond: 50, medianCallSeconds: 180, callLengthSigma: 0.9)
        #expect(abs(settings.meanCallSeconds - 180 * exp(0.405)) < 0.01)
        #expect(abs(settings.expectedLiveCalls - 50 * settings.meanCallSeconds) < 0.01)
    }
}
