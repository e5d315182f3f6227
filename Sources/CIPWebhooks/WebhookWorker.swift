import CIPDomain
import CIPOperations
import CIPStore
import Logging

/// Delivers one webhook's changes while this node holds its lease (SPEC 9).
///
/// Its progress is a cursor in the change log (`deliveredThrough`), saved after each round: every
/// change up to it was given to the endpoint. A round reads the next changes after the cursor, sends
/// those the webhook wants (different calls in parallel, each call's in sequence order, stopping a
/// call's at its first failure), and moves the cursor past every change before the first one not
/// delivered. A crash between a delivery and the save repeats that delivery: at least once.
struct WebhookWorker: Sendable {
    let webhookID: Int64
    let owner: String
    let store: any WebhookStore & ChangeLogStore
    let sender: WebhookSender
    let sealingKey: WebhookSealingKey
    let settings: WebhookSettings
    let metrics: ServiceMetrics
    let logger: Logger
    let clock: @Sendable () -> Timestamp
    /// Yields when the change log may hold new changes, and at every poll interval.
    let wakeups: AsyncStream<Void>

    enum Stop: Error {
        case leaseLost
        case stopped
    }

    /// Delivers until cancelled, until the webhook is disabled or deleted, or until another node holds it.
    func run() async {
        do {
            try await withThrowingDiscardingTaskGroup { group in
                group.addTask { try await renewLease() }
                group.addTask { try await deliver() }
            }
        } catch is CancellationError {
        } catch Stop.leaseLost, Stop.stopped {
        } catch {
            logger.warning("webhook delivery stopped", metadata: ["webhook": "\(webhookID)", "error": "\(error)"])
        }
        await sender.shutdown()
    }

    private func renewLease() async throws {
        while true {
            try await Task.sleep(for: settings.leaseDuration / 3)
            let now = clock()
            guard
                try await store.leaseWebhook(
                    id: webhookID, owner: owner, until: now.advanced(by: settings.leaseDuration), now: now)
            else { throw Stop.leaseLost }
        }
    }

    private func deliver() async throws {
        guard var webhook = try await store.webhooks().first(where: { $0.id == webhookID }),
            webhook.state != .disabled,
            let sealed = try await store.sealedWebhookSecret(id: webhookID)
        else { throw Stop.stopped }
        guard let secret = sealingKey.open(sealed) else {
            // Another key than the one that sealed it (a key file replaced or not copied to this
            // node): nothing can be signed. Said where operators look, then retried after a while.
            logger.error(
                "this node's webhook key file does not open the webhook's secret", metadata: ["webhook": "\(webhookID)"]
            )
            webhook.lastError = "the webhook key file of a node does not open this webhook's secret"
            try await save(webhook)
            try await Task.sleep(for: settings.leaseDuration)
            throw Stop.stopped
        }
        guard
            case .success(let url) = WebhookTargetPolicy(allowInsecure: true, allowPrivate: true).check(
                url: webhook.url)
        else { throw Stop.stopped }
        var wakeups = self.wakeups.makeAsyncIterator()
        // Delivered in an earlier round that failed elsewhere: not sent again while this node runs.
        var deliveredAhead: Set<Int64> = []
        if webhook.failingSince != nil {
            try await Task.sleep(for: settings.retryDelay(attempt: webhook.attempts))
        }
        while true {
            try Task.checkCancellation()
            let changes = try await store.changes(
                after: webhook.deliveredThrough, visibleTo: webhook.organization, limit: settings.batchSize)
            guard let last = changes.last else {
                // Caught up: wait for a commit (or the poll interval's tick).
                guard await wakeups.next() != nil else { throw Stop.stopped }
                continue
            }
            if changes.first!.sequence > webhook.deliveredThrough + 1,
                try await store.changeLogBounds().purgedThrough > webhook.deliveredThrough
            {
                // Fallen further behind than the log keeps: what was purged cannot be sent any more.
                webhook.lastError =
                    "changes after \(webhook.deliveredThrough) were purged before they could be delivered "
                    + "(the change log keeps --change-retention)"
                logger.warning(
                    "webhook fell behind the change log's retention", metadata: ["webhook": "\(webhookID)"])
            }
            let wanted = changes.filter {
                webhook.wants(kind: $0.kind, networkID: $0.networkID, advertiserID: $0.advertiserID)
                    && !deliveredAhead.contains($0.sequence)
            }
            let failures = await send(wanted, webhook: webhook, url: url, secret: secret)
            let now = clock()
            if failures.isEmpty {
                webhook.deliveredThrough = last.sequence
                if !wanted.isEmpty { webhook.lastDeliveryAt = now }
                webhook.state = .active
                webhook.failingSince = nil
                webhook.attempts = 0
                deliveredAhead.removeAll()
                try await save(webhook)
                continue
            }
            let firstFailed = failures.keys.min()!
            let reason = failures[firstFailed]!
            if wanted.count > failures.count { webhook.lastDeliveryAt = now }
            if case .gone = reason {
                _ = try await store.disableWebhook(id: webhookID, reason: "the endpoint answered 410 Gone")
                metrics.recordWebhookDelivery("gone")
                logger.notice("webhook disabled: 410 Gone", metadata: ["webhook": "\(webhookID)"])
                throw Stop.stopped
            }
            // Every change before the first failure is done; those after it that went through are
            // remembered so that the retry does not send them again.
            webhook.deliveredThrough =
                changes.last(where: { $0.sequence < firstFailed })?.sequence ?? webhook.deliveredThrough
            for change in wanted where change.sequence > firstFailed && failures[change.sequence] == nil {
                deliveredAhead.insert(change.sequence)
            }
            webhook.lastError = reason.description
            webhook.failingSince = webhook.failingSince ?? now
            webhook.attempts += 1
            webhook.state = .failing
            if now.milliseconds - webhook.failingSince!.milliseconds >= settings.retryLimit.wholeMilliseconds {
                let since = webhook.failingSince!
                _ = try await store.disableWebhook(
                    id: webhookID,
                    reason: "failing since \(since) for \(settings.retryLimit); last error: \(reason.description)")
                logger.notice("webhook disabled after failing too long", metadata: ["webhook": "\(webhookID)"])
                throw Stop.stopped
            }
            try await save(webhook)
            metrics.recordWebhookRetry()
            let delay = settings.retryDelay(attempt: webhook.attempts)
            logger.info(
                "webhook delivery failed",
                metadata: [
                    "webhook": "\(webhookID)", "attempts": "\(webhook.attempts)", "error": "\(reason.description)",
                    "retry_in_ms": "\(delay.wholeMilliseconds)",
                ])
            try await Task.sleep(for: delay)
        }
    }

    private func save(_ webhook: Webhook) async throws {
        guard try await store.saveWebhookProgress(id: webhookID, owner: owner, WebhookProgress(webhook)) else {
            throw Stop.stopped
        }
    }

    enum Failure: Sendable, CustomStringConvertible {
        case gone
        case failed(String)

        var description: String {
            switch self {
            case .gone: "the endpoint answered 410 Gone"
            case .failed(let reason): reason
            }
        }
    }

    /// Sends `changes`, each call's in order, calls in parallel up to the webhook's limit; the
    /// failures by sequence number (a call's first failure; its later changes count as failed too).
    /// Once one call's delivery fails, no other call's is started: the endpoint is failing, and the
    /// rest wait for the retry.
    private func send(
        _ changes: [LoggedChange], webhook: Webhook, url: WebhookURL, secret: WebhookSecret
    ) async -> [Int64: Failure] {
        var byCall: [String: [LoggedChange]] = [:]
        var order: [String] = []
        for change in changes {
            if byCall[change.transactionID] == nil { order.append(change.transactionID) }
            byCall[change.transactionID, default: []].append(change)
        }
        var failures: [Int64: Failure] = [:]
        // Judged after resolving, at each round: the name may point elsewhere since the webhook was made.
        if !changes.isEmpty, let refusal = await sender.refusal(of: url) {
            metrics.recordWebhookDelivery("failed")
            for change in changes { failures[change.sequence] = .failed("refused: the target \(refusal)") }
            return failures
        }
        await withTaskGroup(of: [Int64: Failure].self) { group in
            var next = 0
            func startNext() {
                guard next < order.count, failures.isEmpty else { return }
                let chain = byCall[order[next]]!
                next += 1
                group.addTask { await sendChain(chain, webhookID: webhook.id, url: url, secret: secret) }
            }
            for _ in 0..<settings.concurrencyPerWebhook { startNext() }
            for await chainFailures in group {
                failures.merge(chainFailures) { first, _ in first }
                startNext()
            }
            if let reason = failures.values.first {
                for call in order[next...] {
                    for change in byCall[call]! { failures[change.sequence] = reason }
                }
            }
        }
        return failures
    }

    private func sendChain(
        _ chain: [LoggedChange], webhookID: Int64, url: WebhookURL, secret: WebhookSecret
    ) async -> [Int64: Failure] {
        for (index, change) in chain.enumerated() {
            let outcome = await sender.send(
                change.eventData, messageID: WebhookSender.messageID(webhook: webhookID, sequence: change.sequence),
                to: url, secret: secret)
            switch outcome {
            case .delivered:
                metrics.recordWebhookDelivery("delivered")
                continue
            case .gone:
                return [change.sequence: .gone]
            case .failed(let reason):
                metrics.recordWebhookDelivery("failed")
                // The call's later changes wait behind this one: per call, in sequence order.
                var failures = [change.sequence: Failure.failed(reason)]
                for later in chain[(index + 1)...] { failures[later.sequence] = .failed(reason) }
                return failures
            }
        }
        return [:]
    }
}
