import CIPDomain
import CIPOperations
import CIPStore
import Logging
import ServiceLifecycle
import Synchronization

/// A node's change streams (SPEC 8): one follower of the change log per node, not one per client.
///
/// It reads every change after the last one it read, whenever the store rings its change bell (this
/// node's commits; on PostgreSQL any node's, through `NOTIFY`) and every `pollInterval` besides, and
/// hands each change to the open streams that may see it. Each stream holds at most `maxPending`
/// changes; one that falls behind is ended with `overflow` and resumes from the log. A sweep ends
/// the streams of revoked tokens, overflows streams that lag, and asks for keep-alives.
public final class ChangeStreams: Service, Sendable {
    let store: any ServingStore
    public let limits: StreamLimits
    let metrics: ServiceMetrics
    let logger: Logger
    private let state: Mutex<State>
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    struct State {
        /// The last sequence number read from the log; nil until the follower has started.
        var head: Int64?
        var recent: RecentChanges
        var byNetwork: [Int64: [ObjectIdentifier: StreamSubscription]] = [:]
        var byAdvertiser: [Int64: [ObjectIdentifier: StreamSubscription]] = [:]
        var streamsPerToken: [Int64: Int] = [:]
        var open = 0
        var closed = false
    }

    public init(store: any ServingStore, limits: StreamLimits = StreamLimits(), metrics: ServiceMetrics, logger: Logger)
    {
        self.store = store
        self.limits = limits
        self.metrics = metrics
        self.logger = logger
        state = Mutex(State(recent: RecentChanges(capacity: limits.recentChanges)))
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { [store, wake] in
                for await _ in store.changeBell.rings { wake.yield() }
            }
            group.addTask { [limits, wake] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: limits.pollInterval)
                    wake.yield()
                }
            }
            group.addTask { await self.sweepUntilCancelled() }
            // On graceful shutdown every stream ends cleanly, and no new one starts: clients resume
            // on another node (or this one, restarted) with their last event id.
            await cancelWhenGracefulShutdown { await self.follow() }
            self.closeAll()
            group.cancelAll()
        }
    }

    /// The number of open streams on this node.
    public var openStreams: Int { state.withLock { $0.open } }

    // MARK: Following the log

    private func follow() async {
        while !Task.isCancelled {
            do {
                let latest = try await store.changeLogBounds().latest
                state.withLock { $0.head = $0.head ?? latest }
                break
            } catch {
                logger.warning("change stream cannot read the change log yet", metadata: ["error": "\(error)"])
                try? await Task.sleep(for: .seconds(1))
            }
        }
        wake.yield()
        for await _ in wakeups {
            do {
                try await readNewChanges()
            } catch {
                // An outage: streams keep what they have; the next ring or poll reads again.
                logger.debug("change stream read failed", metadata: ["error": "\(error)"])
            }
        }
    }

    private func readNewChanges() async throws {
        // With no stream open, nobody needs the changes: move past them without reading or framing
        // them (the feed's path and the node's memory pay nothing). A stream that opens later catches
        // up from the log; the check is made under the lock that registers streams, so none can open
        // in between and miss what is skipped.
        if state.withLock({ $0.open == 0 }) {
            let latest: Int64
            if let known = store.changeBell.knownHead {
                latest = known
            } else {
                latest = try await store.changeLogBounds().latest
            }
            let skipped = state.withLock { state -> Bool in
                guard state.open == 0 else { return false }
                if latest > (state.head ?? 0) {
                    state.head = latest
                    state.recent.removeAll()
                }
                return true
            }
            if skipped { return }
        }
        let pageSize = 1000
        while let head = state.withLock({ $0.head }) {
            let page = try await store.changes(after: head, visibleTo: nil, limit: pageSize)
            let now = ContinuousClock.now
            publish(page.map { StreamEvent($0, readAt: now) }, after: head)
            if page.count < pageSize { return }
        }
    }

    private func publish(_ events: [StreamEvent], after head: Int64) {
        guard !events.isEmpty else { return }
        let maxPending = limits.maxPending
        state.withLock { state in
            guard state.head == head else { return }
            for event in events {
                state.recent.append(event)
                for subscription in state.byNetwork[event.networkID]?.values ?? [:].values {
                    subscription.offer(event, limit: maxPending)
                }
                for advertiser in [event.advertiserID, event.previousAdvertiserID].compactMap(\.self) {
                    for subscription in state.byAdvertiser[advertiser]?.values ?? [:].values {
                        subscription.offer(event, limit: maxPending)
                    }
                }
            }
            state.head = events.last!.sequence
        }
    }

    // MARK: Streams

    /// Opens a stream of `scope`'s changes for the token `tokenID`: from a snapshot, or after
    /// `lastEventID`. Throws `.rateLimited` past the per-token cap and `.unavailable` while the node
    /// cannot stream (starting, or shutting down), before anything is sent.
    public func open(_ scope: CallScope, tokenID: Int64, lastEventID: Int64?) async throws -> OpenStream {
        let subscription = try await subscribe(scope.organization.ref, tokenID: tokenID)
        return OpenStream(streams: self, subscription: subscription, scope: scope, lastEventID: lastEventID)
    }

    /// Registers a stream; it receives every change read from now on.
    private func subscribe(_ organization: OrganizationRef, tokenID: Int64) async throws -> StreamSubscription {
        let deadline = ContinuousClock.now + .seconds(5)
        while true {
            let outcome = state.withLock { state -> Result<StreamSubscription, DomainError>? in
                if state.closed { return .failure(.unavailable) }
                guard state.head != nil else { return nil }
                guard state.streamsPerToken[tokenID, default: 0] < limits.maxStreamsPerToken else {
                    return .failure(.rateLimited(retryAfterSeconds: 1))
                }
                let subscription = StreamSubscription(organization: organization, tokenID: tokenID)
                let key = ObjectIdentifier(subscription)
                switch organization.type {
                case .network: state.byNetwork[organization.id, default: [:]][key] = subscription
                case .advertiser: state.byAdvertiser[organization.id, default: [:]][key] = subscription
                }
                state.streamsPerToken[tokenID, default: 0] += 1
                state.open += 1
                return .success(subscription)
            }
            switch outcome {
            case .success(let registered):
                metrics.setOpenStreams(openStreams)
                return registered
            case .failure(let error): throw error
            case nil:
                // The follower has not read the log's head yet (the node is starting).
                guard ContinuousClock.now < deadline else { throw DomainError.unavailable }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    func unsubscribe(_ subscription: StreamSubscription) {
        let key = ObjectIdentifier(subscription)
        let organization = subscription.organization
        state.withLock { state in
            let removed: StreamSubscription?
            switch organization.type {
            case .network:
                removed = state.byNetwork[organization.id]?.removeValue(forKey: key)
                if state.byNetwork[organization.id]?.isEmpty == true { state.byNetwork[organization.id] = nil }
            case .advertiser:
                removed = state.byAdvertiser[organization.id]?.removeValue(forKey: key)
                if state.byAdvertiser[organization.id]?.isEmpty == true { state.byAdvertiser[organization.id] = nil }
            }
            guard removed != nil else { return }
            state.open -= 1
            state.streamsPerToken[subscription.tokenID, default: 1] -= 1
            if state.streamsPerToken[subscription.tokenID] == 0 { state.streamsPerToken[subscription.tokenID] = nil }
        }
        metrics.setOpenStreams(openStreams)
    }

    /// The head this node has read, and the changes after `sequence` it still holds in memory (nil
    /// when it no longer holds the first of them).
    func recent(after sequence: Int64) -> (head: Int64, events: [StreamEvent]?) {
        state.withLock { state in (state.head ?? 0, state.recent.after(sequence)) }
    }

    private var allSubscriptions: [StreamSubscription] {
        state.withLock { state in
            state.byNetwork.values.flatMap(\.values) + state.byAdvertiser.values.flatMap(\.values)
        }
    }

    private func closeAll() {
        state.withLock { $0.closed = true }
        for subscription in allSubscriptions { subscription.end(.shutdown) }
    }

    // MARK: The sweep

    private func sweepUntilCancelled() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: limits.sweepInterval)
            let subscriptions = allSubscriptions
            let now = ContinuousClock.now
            for subscription in subscriptions {
                subscription.sweep(now: now, maxLag: limits.maxLag, keepAlive: limits.keepAlive)
            }
            let tokens = Array(Set(subscriptions.map(\.tokenID)))
            guard !tokens.isEmpty, let revoked = try? await store.revokedTokens(among: tokens), !revoked.isEmpty
            else { continue }
            for subscription in subscriptions where revoked.contains(subscription.tokenID) {
                subscription.end(.revoked)
            }
        }
    }
}
