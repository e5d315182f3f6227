import CIPDomain
import CIPStore
import Foundation
import Logging
import ServiceLifecycle

/// `serve --demo`: seeds an empty database once, then keeps simulated calls flowing through the
/// server's own telephony feed, with a token of its own that is revoked when the server stops.
public struct DemoTraffic: Service {
    let store: any AdminStore
    let baseURL: String
    let callsPerSecond: Double
    let logger: Logger
    let say: @Sendable (String) -> Void

    /// `say` prints to the user.
    public init(
        store: any AdminStore, baseURL: String, callsPerSecond: Double, logger: Logger,
        say: @escaping @Sendable (String) -> Void
    ) {
        self.store = store
        self.baseURL = baseURL
        self.callsPerSecond = callsPerSecond
        self.logger = logger
        self.say = say
    }

    /// Seeds (or finds) the demo network, then runs its traffic until the server stops. A database
    /// that holds other data and no demo network is left alone.
    public func run() async throws {
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
            try await gracefulShutdown()
            return
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
        try await simulator.run()
        _ = try? await store.revokeToken(id: record.id)
    }
}
