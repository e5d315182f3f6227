import Logging
import PostgresNIO
import Synchronization

/// One connection of its own, outside the pool, for the read barrier's head queries (`ReadBarrier`).
///
/// They run one at a time, thousands a second; leasing a pooled connection for each cost more than
/// the query (GET by transaction id 0.43 of `/health` through the pool, 0.52–0.56 on this
/// connection: BENCHMARKS.md). A query that makes no progress for `deadline` has its connection
/// closed by a watchdog (one task for the connection's life, not one per query), which fails it;
/// a failed connection is replaced at the next query.
final class HeadConnection: Sendable {
    private struct State {
        var connection: PostgresConnection?
        var queryStarted: ContinuousClock.Instant?
    }

    private let configuration: PostgresConnection.Configuration
    private let logger: Logger
    private let deadline: Duration
    private let state = Mutex(State())
    private let watchdog = Mutex<Task<Void, Never>?>(nil)

    init(configuration: PostgresConnection.Configuration, deadline: Duration, logger: Logger) {
        self.configuration = configuration
        self.deadline = deadline
        self.logger = logger
    }

    deinit {
        watchdog.withLock { $0 }?.cancel()
        if let connection = state.withLock({ $0.connection }) { Self.close(connection) }
    }

    /// Closes `connection` and keeps it until it is closed (postgres-nio asserts that a connection is
    /// closed before it is released).
    private static func close(_ connection: PostgresConnection) {
        connection.close().whenComplete { _ in _ = connection }
    }

    /// The change log's head. Callers run one query at a time.
    func latestSequence() async throws -> Int64 {
        startWatchdogOnce()
        state.withLock { $0.queryStarted = .now }
        defer { state.withLock { $0.queryStarted = nil } }
        let current: PostgresConnection
        if let open = state.withLock({ $0.connection }), !open.isClosed {
            current = open
        } else {
            current = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
            state.withLock { $0.connection = current }
        }
        do {
            return try await PostgresCallRows(connection: current, logger: logger).latestSequence()
        } catch {
            state.withLock { $0.connection = nil }
            try? await current.close()
            throw error
        }
    }

    private func startWatchdogOnce() {
        watchdog.withLock { task in
            guard task == nil else { return }
            let period = min(Duration.milliseconds(100), deadline / 4)
            task = Task { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: period)
                    guard let self else { return }
                    self.closeIfStalled()
                }
            }
        }
    }

    private func closeIfStalled() {
        let stalled = state.withLock { state -> PostgresConnection? in
            guard let started = state.queryStarted, ContinuousClock.now - started >= deadline else { return nil }
            defer { state.connection = nil }
            return state.connection
        }
        if let stalled { Self.close(stalled) }
    }
}
