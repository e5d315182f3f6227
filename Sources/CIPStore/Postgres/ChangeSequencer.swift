import CIPDomain
import Logging
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// Numbers committed change records in commit order, on every node that shares the database.
///
/// A sequence or identity column is handed out when a row is inserted, not when its transaction
/// commits: a reader tailing "everything after N" would skip a change whose transaction commits
/// after a higher-numbered one. So writers insert change records unnumbered, and a stamping round
/// numbers every committed unnumbered record after the highest number issued. Rounds run one at a
/// time across all nodes (each takes the same transaction-scoped advisory lock), so a round sees
/// every number the previous one issued and only issues higher ones, and a reader that saw number N
/// committed can never later find a record numbered below N that it has not seen. Any node may run a
/// round: there is no leader to elect, and a node that dies mid-round only rolls its round back.
/// Each node runs one round as soon as its own writes commit, and one every `pollInterval` to pick up
/// the records of a node that died before it could.
///
/// A write is acknowledged only once a round has numbered it (`numbered(afterChanges:)`): then the log's head
/// covers every acknowledged write, which is what lets a node answer reads from memory (`ReadBarrier`).
public final class ChangeSequencer: Service, Sendable {
    private let database: PostgresDatabase
    private let bell: ChangeBell
    private let pollInterval: Duration
    private let wakeups: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation
    /// Rounds are counted as they start, and marked finished once every record they found is
    /// numbered; a writer notes the round it waits for, which then checks the leases.
    private let rounds = Mutex<(started: Int64, checkedFor: Int64)>((0, 0))
    private let roundsFinished = SequenceWaiters()
    /// What the last round that checked found after numbering, and that round's number.
    private let lastCheck = Mutex<(round: Int64, check: LeaseCheck)?>(nil)
    /// How long a write waits for its number before it is answered as an outage.
    static let numberingDeadline = Duration.seconds(10)
    /// At most this many records per round, so one round stays short after a long outage.
    static let roundLimit = 5000

    /// Numbered only by explicit `stampRound()` calls (tests): writes do not wait for a number.
    let isManual: Bool
    /// Whether a write waits for its number (when reads come from memory) or only wakes a round.
    let acknowledgesNumbered: Bool

    init(
        database: PostgresDatabase, bell: ChangeBell, isManual: Bool, acknowledgesNumbered: Bool,
        pollInterval: Duration = .milliseconds(250)
    ) {
        self.database = database
        self.isManual = isManual
        self.acknowledgesNumbered = acknowledgesNumbered
        self.bell = bell
        self.pollInterval = pollInterval
        (wakeups, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Asks for a round soon; wakes coalesce, so a burst of commits costs one round.
    func wake() {
        continuation.yield()
    }

    /// Returns once a round that started after this call has finished: every change committed before
    /// it is then numbered. Throws `DomainError.unavailable` if none finishes in time (an outage).
    /// When writes are acknowledged numbered, returns what that round (or a later one) found after
    /// numbering: the nodes whose read leases the write must wait for (`ReadLease`).
    ///
    /// A write that changed nothing waits too when writes are acknowledged numbered: its answer (a
    /// `duplicate`, a no-op update) may rest on a change committed by an earlier attempt whose answer
    /// was lost, and still unnumbered; acknowledged at once, a read through memory right after it
    /// would not find that change (the crash campaign's `acknowledged bridge lost`).
    func numbered(afterChanges changed: Bool) async throws -> LeaseCheck? {
        guard !isManual else { return nil }
        guard acknowledgesNumbered else {
            if changed { wake() }
            return nil
        }
        // The round waited for has not started yet: it will see that a writer wants its check.
        let needed = rounds.withLock { rounds in
            rounds.checkedFor = rounds.started + 1
            return rounds.started + 1
        }
        wake()
        guard await roundsFinished.wait(for: needed, timeout: Self.numberingDeadline) else {
            throw DomainError.unavailable
        }
        if let last = lastCheck.withLock({ $0 }), last.round >= needed { return last.check }
        return try await database.leaseCheck()
    }

    public func run() async throws {
        let poller = Task { [continuation, pollInterval] in
            while !Task.isCancelled {
                try? await Task.sleep(for: pollInterval)
                continuation.yield()
            }
        }
        defer { poller.cancel() }
        await cancelWhenGracefulShutdown {
            for await _ in self.wakeups {
                // When writers wait for their number there is no pause to gather commits (the
                // commits that arrive while a round runs are numbered together by the next one);
                // otherwise a moment lets one round number a burst.
                if !self.acknowledgesNumbered { try? await Task.sleep(for: .milliseconds(5)) }
                let round = self.rounds.withLock { rounds in
                    rounds.started += 1
                    return rounds.started
                }
                do {
                    var stamped = Self.roundLimit
                    while stamped == Self.roundLimit {
                        stamped = try await self.stampRound()
                        // This node's streams need not wait for the notification's round trip.
                        if stamped > 0 { self.bell.ring() }
                    }
                    // Read after the numbering committed: a node that took its lease later learns a
                    // head that covers this round (`ReadLease`). Only when a writer waits for it.
                    if self.rounds.withLock({ $0.checkedFor >= round }) {
                        let check = try await self.database.leaseCheck()
                        self.lastCheck.withLock { $0 = (round, check) }
                    }
                    self.roundsFinished.advance(to: round)
                } catch {
                    // An outage: the next wake or poll tries again.
                    self.database.logger.debug("change sequencer round failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    /// Numbers the committed unnumbered records, oldest write first; returns how many. One statement
    /// (`cip_number_changes`, migration v6) in its own transaction: the lock, the numbering and the
    /// notification that followers of the log wait for, at its commit.
    @discardableResult
    public func stampRound() async throws -> Int {
        try await database.guarded { connection, _ in
            let rows = try await connection.rows(
                "SELECT cip_number_changes(\(Self.roundLimit)) AS stamped", [], self.database.logger)
            return Int(try rows.first?.requiredInteger("stamped") ?? 0)
        }
    }
}
