import CIPDomain
import CIPStore
import Logging
import ServiceLifecycle

/// How long calls and completed calls are kept (SPEC 4 and 5), and how often that is enforced.
public struct RetentionSettings: Sendable {
    /// A live call with no event for longer than this is ended as `expired`.
    public var callExpiry: Duration
    /// Completed calls are kept this long after they end.
    public var completedRetention: Duration
    /// The change log (SPEC 8) keeps changes this long after they were committed.
    public var changeRetention: Duration
    /// How often expiry and purge run.
    public var interval: Duration

    public init(
        callExpiry: Duration = .seconds(4 * 3600), completedRetention: Duration = .seconds(30 * 86400),
        changeRetention: Duration = .seconds(86400), interval: Duration = .seconds(30)
    ) {
        self.callExpiry = callExpiry
        self.completedRetention = completedRetention
        self.changeRetention = changeRetention
        self.interval = interval
    }
}

/// The background work of SPEC 4 and 5: ends silent calls and purges completed calls past
/// retention, on the service's own clock.
public struct MaintenanceService: Service {
    let store: any MaintenanceStore
    let settings: RetentionSettings
    let clock: @Sendable () -> Timestamp
    let metrics: ServiceMetrics
    let logger: Logger

    public init(
        store: any MaintenanceStore, settings: RetentionSettings, clock: @escaping @Sendable () -> Timestamp,
        metrics: ServiceMetrics, logger: Logger
    ) {
        self.store = store
        self.settings = settings
        self.clock = clock
        self.metrics = metrics
        self.logger = logger
    }

    /// One round of expiry and purge; what the loop runs each interval, and what tests call.
    @discardableResult
    public func runOnce() async throws -> (expired: Int, purged: Int) {
        let now = clock()
        let expired = try await store.expireCalls(
            silentSince: now.advanced(by: .zero - settings.callExpiry), now: now)
        metrics.recordExpired(expired)
        let purged = try await store.purgeCompletedCalls(
            endedBefore: now.advanced(by: .zero - settings.completedRetention))
        metrics.recordPurged(purged)
        let purgedChanges = try await store.purgeChanges(
            committedBefore: now.advanced(by: .zero - settings.changeRetention))
        // SPEC 2.9: an expired entry is never listed or applied (those reads check the time) and
        // is purged here.
        _ = try await store.purgeExpiredPreCallData(now: now)
        if expired > 0 || purged > 0 || purgedChanges > 0 {
            logger.info(
                "maintenance",
                metadata: ["expired": "\(expired)", "purged": "\(purged)", "purged_changes": "\(purgedChanges)"])
        }
        return (expired, purged)
    }

    public func run() async throws {
        // Graceful shutdown cancels the loop, which ends the sleep at once.
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    // With several nodes on one database, one of them runs each round.
                    if try await store.claimMaintenanceRound(job: "maintenance", now: clock(), every: settings.interval)
                    {
                        try await runOnce()
                    }
                } catch {
                    metrics.recordDatabaseError()
                    logger.error("maintenance failed", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: settings.interval)
            }
        }
    }
}
