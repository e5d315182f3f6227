import CIPDomain
import CIPTestSupport
import Foundation
import Logging
import PostgresNIO
import Synchronization
import Testing

@testable import CIPStore

/// PostgreSQL nodes read from memory under a lease (`ReadLease`): no head query per read, and a write
/// is acknowledged only once every leased node has applied it, or its lease has ended.
@Suite("PostgreSQL: read leases")
struct PostgresReadLeaseTests {
    /// A second node on the same database, as `cip serve` runs one (with its lease's terms).
    static func node(_ url: String, leaseTerms: ReadLease.Terms = .init()) async throws -> PostgresCallStore {
        let database = try StoreBackend.postgresDatabase(url)
        let node = PostgresCallStore(
            database: database, manualNumbering: false, readsFromMemory: true, leaseTerms: leaseTerms)
        node.runUntilReleased()
        return node
    }

    /// Waits until each node holds its lease, which a node takes once it is read from.
    static func leased(_ nodes: PostgresCallStore...) async throws {
        try await leased(nodes.map(\.lease))
    }

    /// A node takes its lease only once its memory is loaded and a renewal's round trip fits in the
    /// lease: on a machine that runs the whole suite at once, both can take seconds.
    static func leased(_ leases: [ReadLease]) async throws {
        let held = { leases.allSatisfy { $0.allowsRead() } }
        let deadline = ContinuousClock.now + .seconds(60)
        while !held(), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        try #require(held(), "a node never took its lease")
    }

    /// Leases long enough to be taken, and kept, on a loaded machine (a 0.5-s lease is never held
    /// while each renewal takes longer than 0.4 s).
    static func longLease(idleAfter: Duration = .seconds(5)) -> ReadLease.Terms {
        var terms = ReadLease.Terms()
        (terms.duration, terms.margin, terms.idleAfter) = (.seconds(3), .milliseconds(500), idleAfter)
        return terms
    }

    /// A lease of its own beside the store's, on the store's follower.
    static func extraLease(
        _ database: CIPStore.PostgresDatabase, _ store: PostgresCallStore, idleAfter: Duration = .seconds(5)
    ) -> ReadLease {
        ReadLease(database: database, follower: store.follower, terms: longLease(idleAfter: idleAfter))
    }

    /// A call `id` with the note "kept", written through a node (on a fresh database, whose own lease
    /// lasts as long as `longLease`'s) that then holds its lease: what a retry of that PUT finds.
    struct Retried {
        let database: CIPStore.PostgresDatabase
        let store: PostgresCallStore
        let scope: CallScope
        let selector: CallSelector
        /// The first PUT's answer.
        let written: UpdatedCall

        init(_ id: String) async throws {
            store = try await node(StoreBackend.freshPostgresDatabase(), leaseTerms: longLease())
            database = store.database
            try await store.migrate()
            let world = try await Fixture.make(in: store)
            _ = try await store.apply([world.bridged(id, at: 1000)], receivedAt: Timestamp(milliseconds: 1))
            scope = world.scope(.network, world.networkA.id)
            selector = CallSelector(transactionID: id, externalUniqueID: nil)
            written = try await store.updateCallObject(selector, in: scope, note("kept"))
            try await leased(store)
        }

        /// The same PUT again, or one that sets `value`.
        func put(_ value: String = "kept") async throws -> UpdatedCall {
            try await store.updateCallObject(selector, in: scope, note(value))
        }
    }

    static func value(
        of id: String, in node: PostgresCallStore, _ world: Fixture
    ) async throws -> JSONValue? {
        let found = try await node.currentCallObjects(
            CallQuery(
                scope: world.scope(.network, world.networkA.id), transactionID: id, externalUniqueID: nil,
                phonePair: nil))
        guard let object = found.first else { return nil }
        return JSONValue.parse(Data(object.bytes))?["custom_data"]?["Call Disposition"]?["value"]
    }

    static func note(_ value: String) -> CallUpdate {
        CallUpdate(
            externalUniqueID: nil,
            customData: [
                CustomDataWrite(
                    name: "Call Disposition", entry: CustomDataEntry(value: .string(value), source: publicAPISource))
            ])
    }

    /// What one node writes, the other reads at once from memory, under its lease — such reads never
    /// wait for a head query, so only the writes' waiting can make them right. (On a machine loaded
    /// enough, a lease can lapse between renewals; the reads made then go through the barrier.)
    @Test(.enabled(if: StoreBackend.postgresURL != nil))
    func aWriteThroughOneNodeIsInTheOtherNodesMemoryWhenAcknowledged() async throws {
        let (url, _, first) = try await StoreBackend.freshPostgresStore()
        let world = try await Fixture.make(in: first)
        let second = try await Self.node(url)
        _ = try await first.apply([world.bridged("LEASED", at: 1000)], receivedAt: Timestamp(milliseconds: 1))
        try await Self.leased(first, second)
        let scope = world.scope(.network, world.networkA.id)
        var stale: [String] = []
        var leasedReads = 0
        for round in 0..<200 {
            let (writer, reader) = round % 2 == 0 ? (first, second) : (second, first)
            _ = try await writer.updateCall(
                CallSelector(transactionID: "LEASED", externalUniqueID: nil), in: scope, Self.note("v\(round)"))
            if reader.lease.isHeld { leasedReads += 1 }
            let read = try await Self.value(of: "LEASED", in: reader, world)
            if read != .string("v\(round)") { stale.append("round \(round): read \(String(describing: read))") }
        }
        #expect(stale.isEmpty, "\(stale.count) of 200: \(stale.prefix(5))")
        #expect(leasedReads > 0, "no read was made under a lease")
    }

    /// A PUT that changes nothing (a retry) is answered from memory under the lease: no transaction,
    /// so not even the call's lock, held by another session, holds it up — while a PUT that changes
    /// the call waits for that lock.
    @Test(.enabled(if: StoreBackend.postgresURL != nil))
    func aPutThatChangesNothingIsAnsweredFromMemoryUnderTheLease() async throws {
        let call = try await Retried("SAME")
        let (retried, changed) = (Finished(), Finished())
        try await call.database.client.withConnection { connection in
            let logger = Logger(label: "test")
            // The lock every write of the call takes first (`PostgresCallRows.lockedCalls`), in this session.
            try await connection.query("SELECT pg_advisory_lock(hashtextextended(\("SAME"), 7391002))", logger: logger)
            let change = Task {
                defer { changed.mark() }
                return try await call.put("changed")
            }
            let retry = Task {
                let answer = try await call.put()
                retried.mark()
                return answer
            }
            let deadline = ContinuousClock.now + .seconds(30)
            while !retried.isMarked, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            #expect(retried.isMarked, "the retry waited for the call's lock: it was not answered from memory")
            #expect(!changed.isMarked, "a PUT that changes the call did not wait for its lock")
            try await connection.query("SELECT pg_advisory_unlock_all()", logger: logger)
            #expect(try await retry.value == call.written)
            #expect(try await change.value.etag != call.written.etag)
        }
    }

    /// A no-op answered from memory waits, as a write does, until every node the database shows
    /// leased has applied the log's head: memory may hold a change numbered but not yet acknowledged,
    /// which another leased node has not applied, and the client may read through that node next. A
    /// leased node that never announces its progress holds the answer until its lease ends.
    @Test(.enabled(if: StoreBackend.postgresURL != nil))
    func aPutThatChangesNothingWaitsForEveryLeasedNode() async throws {
        let call = try await Retried("RETRIED")
        try await call.database.client.query(
            "INSERT INTO read_leases (node_id, lease_until) VALUES ('behind', now() + interval '2 seconds')",
            logger: Logger(label: "test"))
        #expect(try await call.put() == call.written)
        let ended = try await call.database.client.query(
            "SELECT lease_until < now() FROM read_leases WHERE node_id = 'behind'", logger: Logger(label: "test")
        ).collect().first?.decode(Bool.self)
        #expect(ended == true, "a retry was answered while a leased node that had not applied the log held its lease")
    }

    /// A node that stops renewing (killed) holds writes up until its lease ends, and no longer: the
    /// write is then acknowledged, and the node's reads would have gone back to the barrier.
    @Test(.enabled(if: StoreBackend.postgresURL != nil))
    func aLeaseHolderThatNeverAnswersHoldsAWriteUntilItsLeaseEnds() async throws {
        let (_, database, store) = try await StoreBackend.freshPostgresStore()
        let world = try await Fixture.make(in: store)
        _ = try await store.apply([world.bridged("WAITS", at: 1000)], receivedAt: Timestamp(milliseconds: 1))
        try await Self.leased(store)
        try await database.client.query(
            "INSERT INTO read_leases (node_id, lease_until) VALUES ('gone', now() + interval '2 seconds')",
            logger: Logger(label: "test"))
        _ = try await store.updateCall(
            CallSelector(transactionID: "WAITS", externalUniqueID: nil), in: world.scope(.network, world.networkA.id),
            Self.note("after"))
        let ended = try await database.client.query(
            "SELECT lease_until < now() FROM read_leases WHERE node_id = 'gone'", logger: Logger(label: "test")
        ).collect().first?.decode(Bool.self)
        #expect(ended == true, "the write was acknowledged while a node that had not applied it held a lease")
        #expect(try await Self.value(of: "WAITS", in: store, world) == .string("after"))
    }

    /// A leased node that announces it has applied the write lets it through before its lease ends.
    @Test(.enabled(if: StoreBackend.postgresURL != nil))
    func aLeaseHolderThatAnnouncesItsProgressLetsTheWriteThrough() async throws {
        let (_, database, store) = try await StoreBackend.freshPostgresStore()
        let world = try await Fixture.make(in: store)
        _ = try await store.apply([world.bridged("ANNOUNCED", at: 1000)], receivedAt: Timestamp(milliseconds: 1))
        try await Self.leased(store)
        try await database.client.query(
            "INSERT INTO read_leases (node_id, lease_until) VALUES ('slow', now() + interval '60 seconds')",
            logger: Logger(label: "test"))
        let announcer = Task {
            // Announced again and again: the write's round may start after any one of them.
            while !Task.isCancelled {
                try await database.announceApplied("slow", through: Int64.max)
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        defer { announcer.cancel() }
        _ = try await store.updateCall(
            CallSelector(transactionID: "ANNOUNCED", externalUniqueID: nil),
            in: world.scope(.network, world.networkA.id), Self.note("through"))
        let held = try await database.client.query(
            "SELECT lease_until > now() FROM read_leases WHERE node_id = 'slow'", logger: Logger(label: "test")
        ).collect().first?.decode(Bool.self)
        #expect(held == true, "the write waited for the lease to end, not for the announcement")
    }

    /// A node that shuts down gives its lease up, so writes stop waiting for it at once.
    @Test(.enabled(if: StoreBackend.postgresURL != nil))
    func aNodeGivesItsLeaseUpWhenItStops() async throws {
        let (_, database, store) = try await StoreBackend.freshPostgresStore()
        let lease = Self.extraLease(database, store)
        let running = Task { await lease.run() }
        try await Self.leased([lease])
        func rows() async throws -> Int {
            try await database.client.query(
                "SELECT count(*) FROM read_leases WHERE node_id = \(lease.node)", logger: Logger(label: "test")
            ).collect().first.map { Int(try $0.decode(Int64.self)) } ?? -1
        }
        #expect(try await rows() == 1)
        running.cancel()
        await running.value
        #expect(!lease.isHeld)
        #expect(try await rows() == 0)
    }

    /// A node nobody reads from lets its lease lapse (writes then stop waiting for it), and takes it
    /// again at the next read.
    @Test(.enabled(if: StoreBackend.postgresURL != nil))
    func aNodeNobodyReadsFromLetsItsLeaseLapse() async throws {
        let (_, database, store) = try await StoreBackend.freshPostgresStore()
        let lease = Self.extraLease(database, store, idleAfter: .milliseconds(400))
        let running = Task { await lease.run() }
        defer { running.cancel() }
        try await Self.leased([lease])
        var lapsed = false
        let deadline = ContinuousClock.now + .seconds(60)
        while !lapsed, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(10))
            lapsed = !lease.isHeld
        }
        #expect(lapsed, "the lease was kept without reads")
        try await Self.leased([lease])
    }
}

/// Set once a task has ended, for a test that watches it without awaiting it.
private final class Finished: Sendable {
    private let flag = Atomic<Bool>(false)
    var isMarked: Bool { flag.load(ordering: .acquiring) }
    func mark() { flag.store(true, ordering: .releasing) }
}
