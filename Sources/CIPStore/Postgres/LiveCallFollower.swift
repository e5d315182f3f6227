import CIPDomain
import Logging
import ServiceLifecycle

/// Holds a PostgreSQL node's live calls in memory (`LiveCallIndex`), loaded once from a consistent
/// snapshot and then kept current by applying the change log in sequence order — every node's
/// changes, since every write is numbered into the log before it is acknowledged.
public final class LiveCallFollower: Service, Sendable {
    let index = LiveCallIndex()
    private let database: PostgresDatabase
    private let bell: ChangeBell
    /// The sequence number applied: reads wait for the head (`ReadBarrier`), writes for their round's
    /// head while this node holds a read lease (`ReadLease`).
    let applied = SequenceWaiters()
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation
    private let loaded = SequenceWaiters()
    /// Rings when `applied` advances, for the node's read lease to announce it (`ReadLease`).
    let progress: AsyncStream<Void>
    private let advanced: AsyncStream<Void>.Continuation
    static let pageSize = 1000

    init(database: PostgresDatabase, bell: ChangeBell) {
        self.database = database
        self.bell = bell
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        (progress, advanced) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Rings `progress` without an advance (a lease just renewed announces where the node is).
    func ringProgress() {
        advanced.yield()
    }

    /// True once the index holds the live calls (`/ready` waits for it).
    var isLoaded: Bool { loaded.reached > 0 }

    public func run() async {
        let rings = bell.makeRings()
        await withDiscardingTaskGroup { group in
            group.addTask { [wake] in
                for await _ in rings { wake.yield() }
            }
            group.addTask { [wake] in
                // Changes are announced (NOTIFY, this node's sequencer), and also polled for: a
                // notification lost in an outage only delays them.
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    wake.yield()
                }
            }
            await cancelWhenGracefulShutdown { await self.follow() }
            group.cancelAll()
        }
    }

    /// Returns once the index has applied `sequence`; throws `DomainError.unavailable` if it cannot
    /// in time (the database is out of reach).
    func waitUntilApplied(_ sequence: Int64, timeout: Duration) async throws {
        guard applied.reached < sequence || !isLoaded else { return }
        wake.yield()
        guard await loaded.wait(for: 1, timeout: timeout), await applied.wait(for: sequence, timeout: timeout) else {
            throw DomainError.unavailable
        }
    }

    private func follow() async {
        wake.yield()
        for await _ in wakeups {
            do {
                if !isLoaded { try await load() }
                try await readNewChanges()
            } catch {
                // An outage: reads wait (up to their deadline) and the next ring or poll reads again.
                database.logger.debug("live call follower failed", metadata: ["error": "\(error)"])
            }
        }
    }

    private func load() async throws {
        let (sequence, calls) = try await database.guarded(statementDeadline: .seconds(300)) { connection, _ in
            try await PostgresSnapshot(connection: connection, logger: self.database.logger).take()
        }
        index.load(calls, sequence: sequence)
        applied.advance(to: sequence)
        loaded.advance(to: 1)
        advanced.yield()
        database.logger.info("live calls loaded into memory", metadata: ["calls": "\(calls.count)"])
    }

    private func readNewChanges() async throws {
        while true {
            let after = index.sequence
            let page = try await database.changes(after: after, visibleTo: nil, limit: Self.pageSize)
            guard let first = page.first, let last = page.last else { return }
            if first.sequence != after + 1 {
                // The log no longer holds what follows the index (purged while this node was away).
                database.logger.warning("live calls reloaded: the change log was purged past them")
                try await load()
                continue
            }
            let changes = try page.map { change in
                (transactionID: change.transactionID, call: change.kind == .ended ? nil : try LiveCall(change))
            }
            index.apply(changes, through: last.sequence)
            applied.advance(to: last.sequence)
            advanced.yield()
            if page.count < Self.pageSize { return }
        }
    }
}
