import CIPDomain
import CIPStore
import Foundation
import Logging
import ServiceLifecycle

/// `serve --demo`: seeds an empty database once, then keeps simulated calls flowing through the
/// server's own telephony feed, with a token of its own that is revoked when the server stops.
public struct DemoTraffic: Service {
    let simulator: Simulator
    let store: any CallStore
    let simulatorTokenID: Int64

    /// Seeds (or finds) the demo network and prepares its traffic; nil when the database holds
    /// other data and no demo network, which the demo leaves alone. `say` prints to the user.
    public static func prepare(
        store: any CallStore, baseURL: String, callsPerSecond: Double, logger: Logger,
        say: @Sendable (String) -> Void
    ) async throws -> DemoTraffic? {
        let network: Network
        let advertisers: [Advertiser]
        if let seed = try await DemoSeed.seedIfEmpty(store) {
            say(seed.welcome(baseURL: baseURL))
            (network, advertisers) = (seed.network, seed.advertisers)
        } else if let existing = try await DemoSeed.existingNetwork(store) {
            say(
                "cip demo: the demo network exists already (its tokens were shown when it was created; "
                    + "make new ones with `cip admin token create`). Simulated calls start again.\n")
            (network, advertisers) = existing
        } else {
            say("cip demo: this database already holds data and no demo network; --demo leaves it alone.\n")
            return nil
        }
        let text = TokenGenerator.newToken()
        let record = try await store.createToken(
            hash: TokenHash(of: text), kind: .telephony, organization: nil, scope: .write,
            description: "demo: simulator (revoked when the server stops)", createdAt: .now())
        let settings = SimulationSettings(
            callsPerSecond: callsPerSecond, networkID: network.id, advertiserIDs: advertisers.map(\.id))
        let simulator = Simulator(
            url: URL(string: baseURL)!, token: text, settings: settings, logger: logger, onTerminal: false,
            write: { _ in })
        return DemoTraffic(simulator: simulator, store: store, simulatorTokenID: record.id)
    }

    public func run() async throws {
        try await simulator.run()
        _ = try? await store.revokeToken(id: simulatorTokenID)
    }
}
