import CIPDomain
import CIPHTTP
import CIPOperations
import CIPTestSupport
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@Suite("Expiry and retention on the service's clock (SPEC 4, 5)")
struct MaintenanceTests {
    @Test(arguments: StoreBackend.available)
    func silentCallsExpireAndCompletedCallsArePurged(_ backend: StoreBackend) async throws {
        let world = try await Fixture.make(on: backend)
        let clock = ManualClock()
        let metrics = ServiceMetrics()
        let services = APIServices(store: world.store, settings: APISettings(), clock: clock.function, metrics: metrics)
        let maintenance = MaintenanceService(
            store: world.store, settings: RetentionSettings(), clock: clock.function, metrics: metrics,
            logger: Logger(label: "test"))
        let app = Application(router: buildRouter(services: services), logger: quietTestLogger)
        try await app.test(.router) { client in
            let api = APITester(client: client, world: world)
            // The sender's occurred_at is years old; only the service's clock counts.
            try await api.bridge("QUIET", at: "2001-01-01T00:00:00Z")
            try await api.bridge("CHATTY", at: "2001-01-01T00:00:00Z")
            clock.advance(.seconds(3 * 3600))
            try await api.events(
                #"{"event":"call_updated","transaction_id":"CHATTY","occurred_at":"2001-01-01T00:01:00Z","call_status":"on_hold"}"#
            )
            clock.advance(.seconds(3600 - 1))
            #expect(try await maintenance.runOnce().expired == 0)
            clock.advance(.seconds(2))
            #expect(try await maintenance.runOnce().expired == 1)
            let live = try await api.find(api.networkA, token: api.world.tokens.networkA).calls
            #expect(live.compactMap { $0["transaction_id"]?.stringValue } == ["CHATTY"])
            let expired = try #require(try await world.store.call(transactionID: "QUIET"))
            #expect(expired.ended == CallEnding(at: clock.now(), reason: .expired))

            // Completed calls are kept for 30 days from when they ended, then purged.
            clock.advance(.seconds(30 * 86400 - 1))
            #expect(try await maintenance.runOnce().purged == 0)
            clock.advance(.seconds(2))
            let round = try await maintenance.runOnce()
            #expect(round.purged == 1)
            #expect(try await world.store.call(transactionID: "QUIET") == nil)
            let text = try await api.request(.get, "/metrics").text
            #expect(text.contains("cip_calls_expired_total 2"))
            #expect(text.contains("cip_completed_calls_purged_total 1"))
        }
    }
}
