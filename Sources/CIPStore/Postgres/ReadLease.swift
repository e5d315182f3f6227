import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// A node's lease to answer reads from memory at once, without first learning the change log's head
/// (`ReadBarrier`): what makes a PostgreSQL node's GET as cheap as SQLite's.
///
/// Every `renewEvery` the node sets its row of `read_leases` to end `duration` after the database
/// runs the statement; then it learns the log's head and waits until it has applied it; only then
/// does it count itself leased, until `duration - margin` after it *sent* that renewal — before the
/// row's end on any clock that runs at the database's rate. A write is acknowledged only once every
/// node that the database showed leased, after the write was numbered, has applied it or seen its
/// lease end (`LeaseCheck`, `PostgresCallStore`). So a read under a lease sees every write
/// acknowledged before it began: either that write waited for this node, or it was numbered before
/// the renewal the lease rests on, and so before the head this node applied after it.
///
/// The node announces what it has applied (`NOTIFY cip_applied`) for the writers that wait for it.
/// A node that stops renewing (killed, cut off) holds writes up for at most what its lease has left;
/// its own reads go back to the barrier as soon as its lease ends. A node takes its lease when it is
/// read from, and lets it lapse once nobody has read from it for `idleAfter`: idle nodes cost the
/// database nothing and writes do not wait for them.
public final class ReadLease: Service, Sendable {
    let node = UUID().uuidString
    private let database: PostgresDatabase
    private let follower: LiveCallFollower
    private let duration: Duration
    private let renewEvery: Duration
    private let margin: Duration
    /// A node nobody reads from stops renewing after this long, so writes stop waiting for it.
    private let idleAfter: Duration
    /// The lease's end, in nanoseconds after `origin` (0: none): read by every GET, so an atomic.
    private let validUntil = Atomic<Int64>(0)
    private let origin = ContinuousClock.now
    private let readSinceRenewal = Atomic<Bool>(false)
    /// Until when the database may show this node's row as a lease (nanoseconds after `origin`):
    /// until then writers may wait for its announcements.
    private let announceUntil = Atomic<Int64>(0)
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    /// How long a lease lasts and how it is kept. The defaults are what `cip serve` runs with
    /// (DECISIONS.md, "PostgreSQL"); tests on a loaded machine take longer leases.
    struct Terms: Sendable {
        var duration = Duration.milliseconds(500)
        var renewEvery = Duration.milliseconds(100)
        var margin = Duration.milliseconds(100)
        var idleAfter = Duration.seconds(5)
    }

    init(database: PostgresDatabase, follower: LiveCallFollower, terms: Terms = Terms()) {
        self.database = database
        self.follower = follower
        self.duration = terms.duration
        self.renewEvery = terms.renewEvery
        self.margin = terms.margin
        self.idleAfter = terms.idleAfter
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    private var now: Int64 { (ContinuousClock.now - origin).wholeNanoseconds }

    /// Whether reads may be answered from memory without waiting for the log's head.
    var isHeld: Bool { now < validUntil.load(ordering: .relaxed) }

    /// Whether this read may be answered from memory at once; notes that the node is being read
    /// from, and asks for the lease when it is not held (this read then takes the barrier's way).
    func allowsRead() -> Bool {
        if !readSinceRenewal.load(ordering: .relaxed) { readSinceRenewal.store(true, ordering: .relaxed) }
        if isHeld { return true }
        wake.yield()
        return false
    }

    public func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.announceProgress() }
            group.addTask { [wake, renewEvery] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: renewEvery)
                    wake.yield()
                }
            }
            await cancelWhenGracefulShutdown {
                var idle = Duration.zero
                for await _ in self.wakeups {
                    idle = self.readSinceRenewal.exchange(false, ordering: .relaxed) ? .zero : idle + self.renewEvery
                    if idle < self.idleAfter { await self.renew() }
                }
            }
            group.cancelAll()
        }
        validUntil.store(0, ordering: .relaxed)
        // Writers stop waiting for this node at once, not when its lease would have ended. In a
        // task of its own: this one may be cancelled, which would fail the statement at once.
        let (database, node) = (self.database, self.node)
        await Task { try? await database.releaseLease(node) }.value
    }

    private func renew() async {
        guard follower.isLoaded else { return }
        let sent = ContinuousClock.now
        do {
            try await database.renewLease(node, for: duration)
            // The row ends `duration` after the statement ran, before this moment plus `duration`.
            announceUntil.store((ContinuousClock.now - origin + duration + margin).wholeNanoseconds, ordering: .relaxed)
            follower.ringProgress()
            let head = try await database.latestSequence(pooled: true)
            try await follower.waitUntilApplied(head, timeout: duration)
            let until = (sent - origin + duration - margin).wholeNanoseconds
            if until > validUntil.load(ordering: .relaxed) { validUntil.store(until, ordering: .relaxed) }
        } catch {
            database.logger.debug("read lease not renewed", metadata: ["error": "\(error)"])
        }
    }

    /// Announces each advance of the follower while the database may show this node leased, one
    /// announcement in flight at a time (a burst of applied batches costs one).
    private func announceProgress() async {
        var announced: Int64 = 0
        for await _ in follower.progress {
            let applied = follower.applied.reached
            guard applied > announced, now < announceUntil.load(ordering: .relaxed) else { continue }
            do {
                try await database.announceApplied(node, through: applied)
                announced = applied
            } catch {
                database.logger.debug("applied sequence not announced", metadata: ["error": "\(error)"])
            }
        }
    }
}
