import CIPDomain
import CIPHTTP
import CIPOperations
import CIPSimulator
import CIPStore
import CIPWebhooks
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import ServiceLifecycle

/// Everything `serve` is configured with.
struct ServeConfiguration {
    var host: String
    var port: Int
    var database: DatabaseOption
    var logLevel: Logger.Level
    /// Set for `--demo`: the rate of its simulated calls.
    var demoCallsPerSecond: Double?
    var settings: APISettings
    var limits: ConnectionLimits
    var retention: RetentionSettings
    var webhooks: WebhookSettings
}

/// The composition root: wires the routes and returns the application to run, and the services that
/// must stop before it (the demo's traffic, which needs the server up until it has stopped sending).
func buildApplication(
    _ configuration: ServeConfiguration, stores: ServingStores, logger: Logger
) async throws
    -> (app: some ApplicationProtocol, stopFirst: [any Service])
{
    let store = stores.store
    let clock: @Sendable () -> Timestamp = Timestamp.now
    let metrics = ServiceMetrics()
    let services = APIServices(
        store: store, settings: configuration.settings, clock: clock, metrics: metrics, logger: logger)
    let maintenance = MaintenanceService(
        store: store, settings: configuration.retention, clock: clock, metrics: metrics, logger: logger)
    // The store's own services (PostgreSQL's pool and sequencer) run from the start; the rest wait
    // until the store is prepared.
    let prepared = StartGate()
    let webhooks = WebhookDeliveries(
        store: stores.webhooks, bell: store.changeBell, settings: configuration.webhooks, metrics: metrics,
        logger: logger, clock: clock, userAgent: "cip/\(cipVersion)")
    let background: [any Service] =
        stores.services
        + [maintenance, CatalogRefresher(services: services, logger: logger), webhooks].map(prepared.holding)
    // The streams end before the server stops: an open stream would hold its drain to the end.
    var stopFirst: [any Service] = [prepared.holding(services.changeStreams)]
    if let rate = configuration.demoCallsPerSecond {
        // The simulator reaches the server the way a client on this machine would. It must stop
        // before the server does: a request it sends while the server closes can hang its client.
        let host = ["0.0.0.0", "::", "[::]"].contains(configuration.host) ? "127.0.0.1" : configuration.host
        stopFirst.append(
            prepared.holding(
                DemoTraffic(
                    store: store, baseURL: "http://\(host):\(configuration.port)", callsPerSecond: rate,
                    logger: logger, say: { StandardOutput.bestEffort($0 + "\n") })))
    }
    var app = Application(
        router: buildRouter(services: services),
        server: .guardedHTTP1(configuration.limits),
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port), serverName: "cip",
            availableConnectionsDelegate: MaximumAvailableConnections(
                configuration.limits.maxConnections, logger: logger)),
        services: background,
        logger: logger)
    // Before the port opens: the schema is brought up to date, so the first request finds it.
    app.beforeServerStarts {
        try await stores.prepare()
        prepared.open()
        let liveCalls = try await store.liveCallCount()
        metrics.setLiveCalls(liveCalls)
        logger.info("calls in progress", metadata: ["count": "\(liveCalls)"])
    }
    return (app, stopFirst)
}
