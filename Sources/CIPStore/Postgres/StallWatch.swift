import CIPDomain
import PostgresNIO
import Synchronization

/// How far one database operation has got, for the watch that gives up on it when it stalls.
final class OperationProgress: Sendable {
    private struct State {
        var started = ContinuousClock.now
        var lastProgress = ContinuousClock.now
        var connection: PostgresConnection?
    }
    private let state = Mutex(State())

    /// A connection was leased: from now on the operation is held to the statement deadline.
    func leased(_ connection: PostgresConnection) {
        state.withLock {
            $0.connection = connection
            $0.lastProgress = .now
        }
    }

    /// A statement finished or a row arrived.
    func touch() {
        state.withLock { $0.lastProgress = .now }
    }

    /// Why the operation counts as stalled at `now`, if it does: it passed its deadline, or the
    /// connection it holds has closed — its query may then never be answered (postgres-nio 1.33.2;
    /// the crash campaign's requests in flight at a `kill -9` of PostgreSQL waited out the whole
    /// statement deadline). Whatever it would still answer is as uncertain as the `503` it gets.
    func stall(now: ContinuousClock.Instant, leaseDeadline: Duration, statementDeadline: Duration) -> Stall? {
        state.withLock { state in
            if let connection = state.connection {
                let overdue = now - state.lastProgress >= statementDeadline
                return overdue || connection.isClosed ? .statement(connection) : nil
            }
            return now - state.started >= leaseDeadline ? .lease : nil
        }
    }

    enum Stall {
        /// No connection could be had in time.
        case lease
        /// The leased connection made no progress in time, or has closed; it is closed (again), since
        /// it cannot be trusted.
        case statement(PostgresConnection)
    }
}

/// Runs `operation` and answers `DomainError.unavailable` as soon as it stalls, whether or not the
/// operation ever returns.
///
/// A task group would wait for a stalled child before returning, and a query on a connection that
/// has just closed may never complete (postgres-nio 1.33.2): so the operation runs in a task of its
/// own, the caller is resumed by whichever comes first, and the stalled task is cancelled and left
/// to end when it can.
func withStallWatch<T: Sendable>(
    progress: OperationProgress, leaseDeadline: Duration, statementDeadline: Duration,
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    let outcome = ResumeOnce<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            outcome.set(continuation)
            let work = Task {
                do { outcome.resume(with: .success(try await operation())) } catch {
                    outcome.resume(with: .failure(error))
                }
            }
            let period = min(Duration.milliseconds(100), min(leaseDeadline, statementDeadline) / 4)
            Task {
                while !outcome.isResumed {
                    try? await Task.sleep(for: period)
                    guard
                        let stall = progress.stall(
                            now: .now, leaseDeadline: leaseDeadline, statementDeadline: statementDeadline)
                    else { continue }
                    if outcome.resume(with: .failure(StalledOperation())) {
                        work.cancel()
                        if case .statement(let connection) = stall { connection.close().whenComplete { _ in } }
                    }
                    return
                }
            }
            outcome.onCancel { work.cancel() }
        }
    } onCancel: {
        outcome.cancel()
    }
}

extension PostgresClient {
    /// Runs `body` on a pooled connection under `withStallWatch`: the lease and each statement
    /// held to their deadlines. What the store's operations and the breaker's probe both use.
    func withWatchedConnection<T: Sendable>(
        leaseDeadline: Duration, statementDeadline: Duration,
        _ body: @escaping @Sendable (PostgresConnection, OperationProgress) async throws -> T
    ) async throws -> T {
        let progress = OperationProgress()
        return try await withStallWatch(
            progress: progress, leaseDeadline: leaseDeadline, statementDeadline: statementDeadline
        ) {
            try await self.withConnection { connection in
                progress.leased(connection)
                return try await body(connection, progress)
            }
        }
    }
}

/// A database operation given up on by the stall watch; the store answers it as an outage.
struct StalledOperation: Error {}

/// A continuation resumed exactly once, by whichever of the operation, the watch or cancellation
/// comes first.
private final class ResumeOnce<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var resumed = false
        var cancelWork: (@Sendable () -> Void)?
    }
    private let state = Mutex(State())

    var isResumed: Bool { state.withLock { $0.resumed } }

    func set(_ continuation: CheckedContinuation<T, any Error>) {
        let alreadyResumed = state.withLock { state -> Bool in
            if state.resumed { return true }
            state.continuation = continuation
            return false
        }
        if alreadyResumed { continuation.resume(throwing: CancellationError()) }
    }

    func onCancel(_ cancelWork: @escaping @Sendable () -> Void) {
        let cancelled = state.withLock { state -> Bool in
            state.cancelWork = cancelWork
            return state.resumed && state.continuation == nil
        }
        if cancelled { cancelWork() }
    }

    /// Resumes the caller with `result`; false when it was resumed already.
    @discardableResult
    func resume(with result: Result<T, any Error>) -> Bool {
        let continuation = state.withLock { state -> CheckedContinuation<T, any Error>? in
            guard !state.resumed else { return nil }
            state.resumed = true
            defer { state.continuation = nil }
            return state.continuation
        }
        guard let continuation else { return false }
        continuation.resume(with: result)
        return true
    }

    func cancel() {
        let (continuation, cancelWork) = state.withLock {
            state -> (CheckedContinuation<T, any Error>?, (@Sendable () -> Void)?) in
            guard !state.resumed else { return (nil, nil) }
            state.resumed = true
            defer { state.continuation = nil }
            return (state.continuation, state.cancelWork)
        }
        cancelWork?()
        continuation?.resume(throwing: CancellationError())
    }
}
