import CIPDomain
import CIPHTTP
import CIPOperations
import CIPStore
import Hummingbird
import Logging

/// Everything `serve` is configured with.
struct ServeConfiguration {
    var host: String
    var port: Int
    var database: DatabaseOption
    var logLevel: Logger.Level
    var settings: APISettings
    var retention: RetentionSettings
}

/// The composition root: opens the store, wires the routes and returns the application to run.
func buildApplication(_ configuration: ServeConfiguration) async throws -> some ApplicationProtocol {
    var logger = Logger(label: "cip")
    logger.logLevel = configuration.logLevel
    let store = try await configuration.database.openStore(logger: logger)
    let clock: @Sendable () -> Timestamp = Timestamp.now
    let metrics = ServiceMetrics()
    let services = APIServices(store: store, settings: configuration.settings, clock: clock, metrics: metrics)
    let maintenance = MaintenanceService(
        store: store, settings: configuration.retention, clock: clock, metrics: metrics, logger: logger)
    return Application(
        router: buildRouter(services: services),
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port), serverName: "cip"),
        services: [maintenance],
        logger: logger)
}
