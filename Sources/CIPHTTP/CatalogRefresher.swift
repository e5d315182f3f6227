import Logging
import ServiceLifecycle

/// Reloads the catalog every `interval`, so organizations and fields created by `cip admin` or
/// another node are served within it without any request paying for a reload, and an advertiser
/// renamed elsewhere is carried onto its live calls.
public struct CatalogRefresher: Service {
    let services: APIServices
    let interval: Duration
    let logger: Logger

    public init(services: APIServices, interval: Duration = .seconds(1), logger: Logger) {
        self.services = services
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await services.refreshCatalog()
                } catch {
                    // The store is down: requests answer 503 by themselves; keep the last snapshot.
                    logger.debug("catalog refresh failed", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
