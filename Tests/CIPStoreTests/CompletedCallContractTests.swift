import CIPDomain
import CIPStore
import CIPTestSupport
import Synchronization
import Testing

@Suite("Store contract: expiry, retention, completed calls")
struct CompletedCallContractTests {
    @Test(arguments: StoreBackend.available)
    func expiryEndsOnlyCallsSilentSinceTheCutoff(_ backend: StoreBackend) async throws {
        let world = try await Fixture.make(on: backend)
        let store = world.store
        _ = try await store.apply([world.bridged("OLD", at: 1000)], receivedAt: Timestamp(milliseconds: 10_000))
        _ = try await store.apply([world.bridged("NEW", at: 1000)], receivedAt: Timestamp(milliseconds: 20_000))
        #expect(try await store.liveCallCount() == 2)
        let expired = try await store.expireCalls(
            silentSince: Timestamp(milliseconds: 15_000), now: Timestamp(milliseconds: 30_000))
        #expect(expired == 1)
        let old = try #require(try await store.call(transactionID: "OLD"))
        #expect(old.ended == CallEnding(at: Timestamp(milliseconds: 30_000), reason: .expired))
        #expect(try await store.call(transactionID: "NEW")?.isLive == true)
        #expect(try await store.liveCallCount() == 1)
        // A late event cannot revive an expired call.
        let late = try await store.apply([world.bridged("OLD", at: 5000)], receivedAt: Timestamp(milliseconds: 31_000))
        #expect(late == [.ignored])
    }

    @Test(arguments: StoreBackend.available)
    func purgeDeletesCompletedCallsEndedBeforeTheCutoff(_ backend: StoreBackend) async throws {
        let world = try await Fixture.make(on: backend)
        let store = world.store
        _ = try await store.apply(
            [world.bridged("A", at: 1000), world.bridged("B", at: 1000), world.bridged("LIVE", at: 1000)],
            receivedAt: Timestamp(milliseconds: 1000))
        _ = try await store.apply([world.ended("A", at: 2000)], receivedAt: Timestamp(milliseconds: 10_000))
        _ = try await store.apply([world.ended("B", at: 2000)], receivedAt: Timestamp(milliseconds: 20_000))
        #expect(try await store.purgeCompletedCalls(endedBefore: Timestamp(milliseconds: 15_000)) == 1)
        #expect(try await store.call(transactionID: "A") == nil)
        #expect(try await store.call(transactionID: "B") != nil)
        #expect(try await store.call(transactionID: "LIVE")?.isLive == true)
        // What was remembered of A's events went with it.
        #expect(
            try await store.apply([world.ended("A", at: 2000)], receivedAt: Timestamp(milliseconds: 30_000)) != [
                .duplicate
            ])
    }

    @Test(arguments: StoreBackend.available)
    func completedCallsAreFilteredAndOrderedByEnd(_ backend: StoreBackend) async throws {
        let world = try await Fixture.make(on: backend)
        let store = world.store
        let received = Timestamp(milliseconds: 1)
        _ = try await store.apply(
            [
                world.bridged("A1", at: 1000, advertiser: world.advertiserA1),
                world.bridged("A2", at: 1000, advertiser: world.advertiserA2),
                world.bridged("B1", at: 1000, network: world.networkB), world.bridged("LIVE", at: 1000),
                world.ended("A1", at: 5000), world.ended("A2", at: 3000),
                world.ended("B1", at: 4000, network: world.networkB),
                world.ended("NEVER-BRIDGED", at: 4500),
            ], receivedAt: received)
        func ids(_ filter: CompletedCallFilter) async throws -> [String] {
            let seen = Mutex<[String]>([])
            try await store.forEachCompletedCall(filter) { call in seen.withLock { $0.append(call.transactionID) } }
            return seen.withLock { $0 }
        }
        #expect(try await ids(CompletedCallFilter()) == ["A2", "B1", "A1"])
        #expect(try await ids(CompletedCallFilter(networkID: world.networkA.id)) == ["A2", "A1"])
        #expect(try await ids(CompletedCallFilter(advertiserID: world.advertiserA1.id)) == ["A1"])
        #expect(try await ids(CompletedCallFilter(since: Timestamp(milliseconds: 4000))) == ["B1", "A1"])
        #expect(try await ids(CompletedCallFilter(until: Timestamp(milliseconds: 4000))) == ["A2"])
        #expect(
            try await ids(
                CompletedCallFilter(
                    networkID: world.networkA.id, since: Timestamp(milliseconds: 3000),
                    until: Timestamp(milliseconds: 5000))) == ["A2"])
    }

    @Test(arguments: StoreBackend.available)
    func aMaintenanceRoundIsClaimedOncePerInterval(_ backend: StoreBackend) async throws {
        let store = try await backend.makeStore()
        let now = Timestamp(milliseconds: 1_000_000)
        let claims = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<10 {
                group.addTask { try await store.claimMaintenanceRound(job: "j", now: now, every: .seconds(30)) }
            }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(claims.filter { $0 }.count == 1)
        let soon = Timestamp(milliseconds: now.milliseconds + 29_000)
        #expect(try await store.claimMaintenanceRound(job: "j", now: soon, every: .seconds(30)) == false)
        #expect(try await store.claimMaintenanceRound(job: "other", now: soon, every: .seconds(30)) == true)
        let later = Timestamp(milliseconds: now.milliseconds + 30_000)
        #expect(try await store.claimMaintenanceRound(job: "j", now: later, every: .seconds(30)) == true)
    }
}
