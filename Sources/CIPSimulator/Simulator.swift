import CIPDomain
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Drives a server's telephony feed with live-looking traffic (issue: `cip simulate`, `serve --demo`).
///
/// Calls arrive as a Poisson process, last a log-normal time, get custom data from several sources,
/// sometimes go on hold, and end. Stopping (Ctrl-C, graceful shutdown, or the end of `duration`)
/// sends nothing more: calls still in progress are left to end or expire on the server.
public final class Simulator: Service, Sendable {
    private let client: FeedClient
    private let settings: SimulationSettings
    private let logger: Logger
    private let onTerminal: Bool
    private let write: @Sendable (String) -> Void
    private static let maxBatch = 1000
    private static let tick = Duration.milliseconds(200)

    public init(
        url: URL, token: String, settings: SimulationSettings, logger: Logger, onTerminal: Bool,
        write: @escaping @Sendable (String) -> Void
    ) {
        self.client = FeedClient(baseURL: url, token: token)
        self.settings = settings
        self.logger = logger
        self.onTerminal = onTerminal
        self.write = write
    }

    /// Runs until graceful shutdown. The shutdown is a flag the loop reads between requests, not a
    /// cancellation: Foundation's URLSession on Linux can leave a cancelled request unanswered forever,
    /// and the server's shutdown would wait for it.
    public func run() async throws {
        let stop = Mutex(false)
        _ = await withGracefulShutdownHandler {
            await self.simulate(until: { stop.withLock { $0 } })
        } onGracefulShutdown: {
            stop.withLock { $0 = true }
        }
    }

    /// Runs until `duration` passes, `stopped` says so, or the task is cancelled; returns the final counts.
    @discardableResult
    public func simulate(until stopped: @Sendable () -> Bool = { false }) async -> SimulationStats {
        var stats = SimulationStats()
        var reporter = ProgressReporter(onTerminal: onTerminal, write: write)
        guard await client.waitUntilReachable() else {
            logger.error("simulator: the server did not answer /health")
            stats.errors += 1
            return stats
        }
        var sampling = Sampling()
        let script = CallScript(networkID: settings.networkID, sendsCustomData: settings.sendsCustomData)
        let advertisers: [Int64?] = settings.advertiserIDs.isEmpty ? [nil] : settings.advertiserIDs
        let profiles = advertisers.map { AdvertiserProfile.make(for: $0, sampling: &sampling) }
        var queue = EventQueue()
        let begin = Date().timeIntervalSince1970
        let stopAt = settings.duration.map { begin + Double($0.components.seconds) }

        if settings.warmStart { warmStart(&queue, at: begin, script: script, profiles: profiles, sampling: &sampling) }
        var nextArrival = begin + sampling.exponential(rate: settings.callsPerSecond)
        while !Task.isCancelled, !stopped() {
            let now = Date().timeIntervalSince1970
            if let stopAt, now >= stopAt { break }
            while nextArrival <= now {
                let length = sampling.logNormal(median: settings.medianCallSeconds, sigma: settings.callLengthSigma)
                for (due, event) in script.events(
                    startingAt: nextArrival, lasting: length, profile: sampling.pick(profiles), sampling: &sampling)
                {
                    queue.push(event, at: due)
                }
                nextArrival += sampling.exponential(rate: settings.callsPerSecond)
            }
            let due = queue.popDue(upTo: now)
            var offset = 0
            // The warm start makes the first round thousands of batches: stop between them too.
            while offset < due.count, !Task.isCancelled, !stopped() {
                let batch = Array(due[offset..<min(offset + Self.maxBatch, due.count)])
                offset += batch.count
                await send(batch, stats: &stats)
                reporter.report(stats)
            }
            reporter.report(stats)
            try? await Task.sleep(for: Self.tick)
        }
        reporter.report(stats, final: true)
        return stats
    }

    /// Seeds the calls already in progress at steady state: each has a length drawn in proportion
    /// to how long it is (longer calls are more likely to be under way) and a uniform elapsed part.
    private func warmStart(
        _ queue: inout EventQueue, at now: Double, script: CallScript, profiles: [AdvertiserProfile],
        sampling: inout Sampling
    ) {
        let count = Int(settings.expectedLiveCalls.rounded())
        let sigma = settings.callLengthSigma
        // The length-biased log-normal is log-normal again, with its median raised by e^(σ²).
        let biasedMedian = settings.medianCallSeconds * exp(sigma * sigma)
        for _ in 0..<count {
            let length = sampling.logNormal(median: biasedMedian, sigma: sigma)
            let elapsed = length * sampling.uniform()
            for (due, event) in script.events(
                startingAt: now - elapsed, lasting: length, profile: sampling.pick(profiles), sampling: &sampling)
            {
                queue.push(event, at: due)
            }
        }
    }

    private func send(_ batch: [SimulatedEvent], stats: inout SimulationStats) async {
        do {
            let statuses = try await client.post(batch.map(\.json))
            stats.events += batch.count
            for (event, status) in zip(batch, statuses) {
                switch status {
                case "applied", "duplicate", "ignored":
                    if event.role == .start { stats.started += 1 }
                    if event.role == .end { stats.ended += 1 }
                default:
                    stats.errors += 1
                }
            }
        } catch {
            if Task.isCancelled { return }
            stats.errors += batch.count
            logger.warning("simulator: a batch failed", metadata: ["error": "\(error)"])
        }
    }
}
