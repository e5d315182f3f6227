import CIPDomain
import CIPTestSupport
import Logging
import PostgresNIO
import Synchronization
import Testing

@testable import CIPStore

/// A burst of writes to one call on a PostgreSQL node queues in memory
/// (`PostgresCallStore.callGates`), not in the database's lock queue where each waiter would hold
/// one of the pool's connections.
@Suite("PostgreSQL: one call's writes wait in memory, not on connections")
struct PostgresCallGatesTests {
    @Test(.enabled(if: StoreBackend.postgresURL != nil))
    func aBurstOfPUTsOnOneCallNeverHasTwoConnectionsWaitingForItsLock() async throws {
        let (url, database, store) = try await StoreBackend.freshPostgresStore()
        let world = try await Fixture.make(in: store)
        _ = try await store.apply([world.bridged("HOT", at: 1000)], receivedAt: Timestamp(milliseconds: 1))
        let scope = world.scope(.network, world.networkA.id)
        let name = String(url.split(separator: "/").last ?? "")

        // Sessions of the store's database waiting for a call's lock (`PostgresCallRows.lockedCalls`, keyed
        // 7391002; the sequencer's own lock is another), sampled while the burst runs.
        let mostWaiting = Mutex(0)
        let burstDone = Atomic<Bool>(false)
        let watcher = Task {
            while !burstDone.load(ordering: .relaxed) {
                let rows = try await database.client.query(
                    """
                    SELECT count(*) FROM pg_stat_activity
                    WHERE datname = \(name) AND wait_event_type = 'Lock' AND query LIKE '%7391002%'
                    """, logger: Logger(label: "test"))
                for try await count in rows.decode(Int64.self) {
                    mostWaiting.withLock { $0 = max($0, Int(count)) }
                }
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        let count = 100
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<count {
                group.addTask {
                    let write = CustomDataWrite(
                        name: "n\(index)", entry: CustomDataEntry(value: .string("v"), source: publicAPISource))
                    _ = try await store.updateCall(
                        CallSelector(transactionID: "HOT", externalUniqueID: nil), in: scope,
                        CallUpdate(externalUniqueID: nil, customData: [write]))
                }
            }
            try await group.waitForAll()
        }
        burstDone.store(true, ordering: .relaxed)
        try await watcher.value

        #expect(mostWaiting.withLock { $0 } == 0, "PUTs of one call waited for its lock on connections of their own")
        #expect(store.callGates.taken == 0)
        let call = try #require(
            try await store.currentCalls(
                CallQuery(scope: scope, transactionID: "HOT", externalUniqueID: nil, phonePair: nil)
            ).first)
        #expect(call.version == Int64(1 + count))
    }
}
