import CIPDomain
import CIPStore
import CIPTestSupport
import Logging
import PostgresNIO
import Testing

/// The PostgreSQL change log's numbering, with the sequencer driven by hand so that a commit can be
/// held back on purpose.
@Suite("PostgreSQL: change log numbering in commit order")
struct PostgresSequencingTests {
    /// A store whose sequencer does not run: changes stay unnumbered until `stampRound()`.
    static func storeWithoutSequencer() async throws -> (PostgresCallStore, Fixture) {
        let (store, world, _) = try await storeWithoutSequencerAndItsURL()
        return (store, world)
    }

    static func storeWithoutSequencerAndItsURL() async throws -> (PostgresCallStore, Fixture, String) {
        let url = try await StoreBackend.freshPostgresDatabase()
        let database = try StoreBackend.postgresDatabase(url)
        let store = PostgresCallStore(database: database, manualNumbering: true, readsFromMemory: true)
        store.runUntilReleased()
        try await store.migrate()
        return (store, try await Fixture.make(in: store), url)
    }

    /// An attempt commits a bridge but its answer is lost (here: a node that does not wait for the
    /// number); the sender's retry is a `duplicate`. That acknowledgement must also wait for the
    /// number, or a read through memory right after it misses the call (the crash campaign's
    /// `acknowledged bridge lost`).
    @Test(.enabled(if: StoreBackend.postgresURL != nil))
    func aDuplicateIsAcknowledgedOnlyOnceTheChangeItRestsOnIsNumbered() async throws {
        let (lost, world, url) = try await Self.storeWithoutSequencerAndItsURL()
        let bridge = world.bridged("RETRIED", at: 1000)
        let received = Timestamp(milliseconds: 10_000)
        let first = try await lost.apply([bridge], receivedAt: received)
        guard case .applied = first.first else {
            Issue.record("the first attempt was \(first)")
            return
        }

        let database = try StoreBackend.postgresDatabase(url)
        let node = PostgresCallStore(database: database, readsFromMemory: true)
        node.runUntilReleased()
        // Loaded without the unnumbered bridge (as a snapshot leaves such changes out).
        // By deadline: loading takes seconds when the whole suite shares the machine.
        let loadedBy = ContinuousClock.now + .seconds(30)
        while (try? await node.ping()) == nil, ContinuousClock.now < loadedBy {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(try await node.apply([bridge], receivedAt: received) == [.duplicate])
        let found = try await node.currentCallObjects(
            CallQuery(
                scope: world.scope(.network, world.networkA.id), transactionID: "RETRIED", externalUniqueID: nil,
                phonePair: nil))
        #expect(found.count == 1)
    }

    @Test(.enabled(if: StoreBackend.postgresURL != nil))
    func aChangeCommittedLateIsNotSkippedAsAPlainSequenceWouldSkipIt() async throws {
        let (store, world) = try await Self.storeWithoutSequencer()
        let network = OrganizationRef(type: .network, id: world.networkA.id)
        let insert = """
            INSERT INTO call_changes (transaction_id, network_id, kind, changed, call, committed_at)
            VALUES ($1, \(world.networkA.id), 'call_bridged', '[]', '{}', 0)
            """
        try await store.database.client.withConnection { slow in
            try await store.database.client.withConnection { fast in
                let logger = Logger(label: "test")
                // The slow writer's row is inserted first (a lower id), but commits last.
                try await slow.query("BEGIN", logger: logger)
                try await slow.query(PostgresQuery(unsafeSQL: insert, binds: binds("SLOW")), logger: logger)
                try await fast.query(PostgresQuery(unsafeSQL: insert, binds: binds("FAST")), logger: logger)

                try await store.sequencer.stampRound()
                let naiveFirst = try await changeIDs(fast, after: 0)
                let first = try await store.allChanges(visibleTo: network)
                try await slow.query("COMMIT", logger: logger)
                try await store.sequencer.stampRound()
                let naiveThen = try await changeIDs(fast, after: naiveFirst.max() ?? 0)
                let then = try await store.allChanges(after: first.last?.sequence ?? 0, visibleTo: network)

                // A tailer of the plain sequence (change_id) saw FAST's row, moved past it, and never sees SLOW's.
                #expect(naiveFirst.count == 1)
                #expect(naiveThen.isEmpty)
                // The tailer of the change log sees both, each once, in the order they committed.
                #expect(first.map(\.transactionID) == ["FAST"])
                #expect(then.map(\.transactionID) == ["SLOW"])
                #expect(then[0].sequence == first[0].sequence + 1)
            }
        }
    }

    @Test(.enabled(if: StoreBackend.postgresURL != nil))
    func aSnapshotLeavesOutWhatIsCommittedButNotYetNumbered() async throws {
        let (store, world) = try await Self.storeWithoutSequencer()
        let scope = world.scope(.network, world.networkA.id)
        let received = Timestamp(milliseconds: 10_000)
        _ = try await store.apply([world.bridged("S1", at: 1000), world.bridged("S2", at: 1100)], receivedAt: received)
        try await store.sequencer.stampRound()
        let before = try await store.currentCallObjects(
            CallQuery(scope: scope, transactionID: nil, externalUniqueID: nil, phonePair: nil))

        // Committed, not numbered: an end, an update, a new call.
        _ = try await store.apply([world.ended("S1", at: 2000), world.bridged("S3", at: 2000)], receivedAt: received)
        _ = try await store.updateCall(
            CallSelector(transactionID: "S2", externalUniqueID: nil), in: scope,
            CallUpdate(externalUniqueID: "E2", customData: []))
        let snapshot = try await store.snapshot(scope)
        #expect(snapshot.sequence == 2)
        #expect(snapshot.calls == before)

        try await store.sequencer.stampRound()
        let later = try await store.allChanges(after: snapshot.sequence, visibleTo: scope.organization.ref)
        #expect(later.map(\.kind) == [.ended, .bridged, .updated])
        #expect(try await store.snapshot(scope).sequence == 5)
    }

    private func binds(_ text: String) -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(text)
        return binds
    }

    private func changeIDs(_ connection: PostgresConnection, after id: Int64) async throws -> [Int64] {
        var ids: [Int64] = []
        let rows = try await connection.query(
            "SELECT change_id FROM call_changes WHERE change_id > \(id) ORDER BY change_id",
            logger: Logger(label: "test"))
        for try await changeID in rows.decode(Int64.self) { ids.append(changeID) }
        return ids
    }
}

/// A test's PostgreSQL store closes its connections once the test lets go of it.
@Suite("PostgreSQL: test stores stop their pools")
struct PostgresPoolLifetimeTests {
    @Test(.enabled(if: StoreBackend.postgresURL != nil))
    func aReleasedStoreClosesItsConnections() async throws {
        let url = try await StoreBackend.freshPostgresDatabase()
        let name = try #require(url.split(separator: "/").last.map(String.init))
        func connections() async throws -> Int {
            let observer = try StoreBackend.postgresDatabase(url, label: "test.observer")
            observer.runPoolUntilReleased()
            return try await observer.connectionCount(to: name)
        }
        do {
            let database = try StoreBackend.postgresDatabase(url)
            let store = PostgresCallStore(database: database)
            store.runUntilReleased()
            try await store.migrate()
            _ = try await Fixture.make(in: store)
            // The store's own connection, and the observer's.
            #expect(try await connections() >= 2)
        }
        var remaining = Int.max
        for _ in 0..<50 where remaining > 1 {
            try await Task.sleep(for: .milliseconds(100))
            remaining = try await connections()
        }
        #expect(remaining == 1, "only the observer's own connection is left")
    }
}

extension CIPStore.PostgresDatabase {
    fileprivate func connectionCount(to database: String) async throws -> Int {
        let rows = try await client.query(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = \(database)", logger: Logger(label: "test"))
        for try await count in rows.decode(Int64.self) { return Int(count) }
        return 0
    }
}
