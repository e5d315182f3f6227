import Dispatch
import Foundation
import Logging
import ServiceLifecycle

/// Ends the process if a graceful shutdown has not finished `limit` after it began: the last
/// guarantee that SIGTERM stops the server whatever a client or the database does. The drain
/// itself is bounded first by the service group (then in-flight work is cancelled); this catches
/// what ignores cancellation.
struct ShutdownWatchdog: Service {
    let limit: Duration
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        let seconds = Double(limit.components.seconds) + Double(limit.components.attoseconds) / 1e18
        let logger = logger
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) {
            logger.critical("shutdown did not finish in time; exiting", metadata: ["limit": "\(limit)"])
            Foundation.exit(1)
        }
    }
}
