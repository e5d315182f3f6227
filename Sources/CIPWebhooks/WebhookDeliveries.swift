import CIPDomain
import CIPOperations
import CIPStore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// A node's webhook deliveries (SPEC 9): every `pollInterval` it reads the webhooks (so one created,
/// disabled or enabled by `cip admin` is seen within a second), claims the lease of each active one
/// no live node holds, and runs a `WebhookWorker` for each it holds. Workers are woken by this
/// node's commits (on PostgreSQL any node's) and by the same tick.
public final class WebhookDeliveries: Service, Sendable {
    let store: any WebhookStore & ChangeLogStore
    let bell: ChangeBell
    let settings: WebhookSettings
    let metrics: ServiceMetrics
    let logger: Logger
    let clock: @Sendable () -> Timestamp
    let userAgent: String
    /// This process's name in leases: unique per run, so a restarted node waits out its old leases.
    let owner = "node-\(UUID().uuidString.lowercased())"
    private let workers = Mutex<[Int64: Running]>([:])

    private struct Running {
        let task: Task<Void, Never>
        let wake: AsyncStream<Void>.Continuation
        /// Which start of the webhook's worker this is: a worker stopped (disabled) and started again
        /// (enabled) must not, as it ends, remove the entry of the one that replaced it.
        let start: UUID
    }

    public init(
        store: any WebhookStore & ChangeLogStore, bell: ChangeBell, settings: WebhookSettings,
        metrics: ServiceMetrics, logger: Logger, clock: @escaping @Sendable () -> Timestamp = Timestamp.now,
        userAgent: String
    ) {
        self.store = store
        self.bell = bell
        self.settings = settings
        self.metrics = metrics
        self.logger = logger
        self.clock = clock
        self.userAgent = userAgent
    }

    public func run() async throws {
        let rings = bell.makeRings()
        let fanOut = Task { [weak self] in
            for await _ in rings { self?.wakeAll() }
        }
        await cancelWhenGracefulShutdown { await self.supervise() }
        fanOut.cancel()
        let running = workers.withLock { workers in
            defer { workers.removeAll() }
            return Array(workers.values)
        }
        for worker in running { worker.task.cancel() }
        for worker in running { await worker.task.value }
        // Another node, or this one restarted, takes the webhooks over at once, not in 15 s.
        do {
            try await store.releaseWebhookLeases(owner: owner)
        } catch {
            logger.warning("webhook leases could not be released", metadata: ["error": "\(error)"])
        }
    }

    private func supervise() async {
        var warnedAboutKey = false
        var lagMeasured = ContinuousClock.now - settings.lagInterval
        var key: WebhookSealingKey?
        while !Task.isCancelled {
            do {
                let webhooks = try await store.webhooks()
                let deliverable = webhooks.filter { $0.state != .disabled }
                stopWorkers(except: Set(deliverable.map(\.id)))
                if key == nil && !deliverable.isEmpty { key = settings.sealingKey() }
                if let key {
                    for webhook in deliverable where !isRunning(webhook.id) { try await start(webhook, key) }
                } else if !deliverable.isEmpty && !warnedAboutKey {
                    logger.warning("webhooks exist but this node has no webhook key file: it delivers none")
                    warnedAboutKey = true
                }
                if ContinuousClock.now - lagMeasured >= settings.lagInterval {
                    try await measureLag(deliverable)
                    lagMeasured = .now
                }
            } catch is CancellationError {
                return
            } catch {
                logger.warning("webhooks could not be read", metadata: ["error": "\(error)"])
            }
            wakeAll()
            try? await Task.sleep(for: settings.pollInterval)
        }
    }

    private func isRunning(_ id: Int64) -> Bool {
        workers.withLock { $0[id] != nil }
    }

    private func start(_ webhook: Webhook, _ key: WebhookSealingKey) async throws {
        let now = clock()
        guard
            try await store.leaseWebhook(
                id: webhook.id, owner: owner, until: now.advanced(by: settings.leaseDuration), now: now)
        else { return }
        let (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let worker = WebhookWorker(
            webhookID: webhook.id, owner: owner, store: store,
            sender: WebhookSender(settings: settings, userAgent: userAgent), sealingKey: key, settings: settings,
            metrics: metrics,
            logger: logger, clock: clock, wakeups: wakeups)
        let start = UUID()
        workers.withLock { workers in
            let task = Task { [weak self] in
                await worker.run()
                self?.finished(webhook.id, start: start)
            }
            workers[webhook.id] = Running(task: task, wake: wake, start: start)
        }
        logger.info("delivering webhook", metadata: ["webhook": "\(webhook.id)"])
    }

    private func finished(_ id: Int64, start: UUID) {
        workers.withLock { workers in
            if workers[id]?.start == start { workers[id] = nil }
        }
    }

    private func stopWorkers(except keep: Set<Int64>) {
        let stopping = workers.withLock { workers in
            let ids = workers.keys.filter { !keep.contains($0) }
            return ids.compactMap { workers.removeValue(forKey: $0) }
        }
        for worker in stopping { worker.task.cancel() }
    }

    private func wakeAll() {
        workers.withLock { workers in
            for worker in workers.values { worker.wake.yield() }
        }
    }

    /// The age of the oldest change not yet delivered, over every webhook still delivering.
    private func measureLag(_ webhooks: [Webhook]) async throws {
        var oldest: Timestamp?
        for webhook in webhooks {
            let next = try await store.changes(
                after: webhook.deliveredThrough, visibleTo: webhook.organization, limit: settings.batchSize
            ).first { webhook.wants(kind: $0.kind, networkID: $0.networkID, advertiserID: $0.advertiserID) }
            if let committed = next?.committedAt, committed.milliseconds < (oldest?.milliseconds ?? .max) {
                oldest = committed
            }
        }
        let lag = oldest.map { max(0, clock().milliseconds - $0.milliseconds) } ?? 0
        metrics.setWebhookLag(milliseconds: lag)
    }
}
