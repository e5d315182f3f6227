import CIPDomain
import CIPStore
import CIPTestSupport
import Testing

@Suite("Store contract: calls and events")
struct CallContractTests {
    static let received = Timestamp(milliseconds: 10_000)

    @Test(arguments: StoreBackend.available)
    func currentCallsAreScopedFilteredAndOrdered(_ backend: StoreBackend) async throws {
        let world = try await Fixture.make(on: backend)
        let outcomes = try await world.store.apply(
            [
                world.bridged("B", at: 2000, advertiser: world.advertiserA1),
                world.bridged("A", at: 2000, advertiser: world.advertiserA2),
                world.bridged("C", at: 3000, advertiser: world.advertiserA1, calling: "+15305550000"),
                world.bridged("D", at: 1000, network: world.networkB),
            ], receivedAt: Self.received)
        #expect(outcomes.allSatisfy { if case .applied = $0 { true } else { false } })

        let all = try await world.store.currentCalls(
            CallQuery(
                scope: world.scope(.network, world.networkA.id), transactionID: nil, externalUniqueID: nil,
                phonePair: nil))
        #expect(all.map(\.transactionID) == ["C", "A", "B"])
        let a1 = try await world.store.currentCalls(
            CallQuery(
                scope: world.scope(.advertiser, world.advertiserA1.id), transactionID: nil, externalUniqueID: nil,
                phonePair: nil))
        #expect(a1.map(\.transactionID) == ["C", "B"])
        let byPair = try await world.store.currentCalls(
            CallQuery(
                scope: world.scope(.network, world.networkA.id), transactionID: nil, externalUniqueID: nil,
                phonePair: PhonePair(calling: "+15309999999", destination: "+18555595599")))
        #expect(byPair.map(\.transactionID) == ["A", "B"])
        let andFilters = try await world.store.currentCalls(
            CallQuery(
                scope: world.scope(.network, world.networkA.id), transactionID: "C", externalUniqueID: nil,
                phonePair: PhonePair(calling: "+15309999999", destination: "+18555595599")))
        #expect(andFilters.isEmpty)
        let otherNetwork = try await world.store.currentCalls(
            CallQuery(
                scope: world.scope(.network, world.networkA.id), transactionID: "D", externalUniqueID: nil,
                phonePair: nil))
        #expect(otherNetwork.isEmpty)
    }

    @Test(arguments: StoreBackend.available)
    func eventsAreIdempotentOrderSafeAndFinal(_ backend: StoreBackend) async throws {
        let world = try await Fixture.make(on: backend)
        let store = world.store
        #expect(
            try await store.apply([world.bridged("T", at: 2000)], receivedAt: Self.received).first.map(Self.status)
                == .applied)
        #expect(
            try await store.apply([world.bridged("T", at: 2000)], receivedAt: Self.received).first.map(Self.status)
                == .duplicate)
        #expect(
            try await store.apply([world.ended("T", at: 1000)], receivedAt: Self.received).first.map(Self.status)
                == .ignored)
        #expect(
            try await store.apply([world.ended("T", at: 3000)], receivedAt: Self.received).first.map(Self.status)
                == .applied)
        #expect(
            try await store.apply([world.bridged("T", at: 4000)], receivedAt: Self.received).first.map(Self.status)
                == .ignored)
        let live = try await store.currentCalls(
            CallQuery(
                scope: world.scope(.network, world.networkA.id), transactionID: "T", externalUniqueID: nil,
                phonePair: nil))
        #expect(live.isEmpty)

        // An end that arrives first is kept, so the late bridge cannot bring the call back.
        let batch = try await store.apply(
            [world.ended("U", at: 5000), world.bridged("U", at: 4000)], receivedAt: Self.received)
        #expect(batch.map(Self.status) == [.applied, .ignored])
        // The feed learns the stored networks of the calls it names inside its own transaction.
        let (networks, _) = try await store.apply(naming: ["T", "U", "V"], receivedAt: Self.received) { stored in
            (stored, [])
        }
        #expect(networks == ["T": world.networkA.id, "U": world.networkA.id])
    }

    /// Many updates of one call at once, straight to the store (so they do arrive together and, on
    /// SQLite, commit in groups): each applies to the call as the one before it left it.
    @Test(arguments: StoreBackend.available)
    func concurrentUpdatesOfOneCallAllLand(_ backend: StoreBackend) async throws {
        let world = try await Fixture.make(on: backend)
        let store = world.store
        _ = try await store.apply([world.bridged("T", at: 1000)], receivedAt: Self.received)
        let scope = world.scope(.network, world.networkA.id)
        let count = 200
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<count {
                group.addTask {
                    let write = CustomDataWrite(
                        name: "n\(index)", entry: CustomDataEntry(value: .string("v\(index)"), source: publicAPISource))
                    _ = try await store.updateCall(
                        CallSelector(transactionID: "T", externalUniqueID: nil), in: scope,
                        CallUpdate(externalUniqueID: nil, customData: [write]))
                }
            }
            try await group.waitForAll()
        }
        let call = try #require(
            try await store.currentCalls(
                CallQuery(scope: scope, transactionID: "T", externalUniqueID: nil, phonePair: nil)
            ).first)
        #expect(call.customData.count == count)
        #expect((0..<count).allSatisfy { call.customData["n\($0)"]?.value == .string("v\($0)") })
        #expect(call.version == Int64(1 + count))
    }

    /// Among updates that arrive together, one refused by the database (an external id another call
    /// holds) changes nothing of its call and refuses none of the others.
    @Test(arguments: StoreBackend.available)
    func aRefusedUpdateAmongConcurrentOnesChangesNothingAndStopsNoOther(_ backend: StoreBackend) async throws {
        let world = try await Fixture.make(on: backend)
        let store = world.store
        let ids = (0..<20).map { "C\($0)" }
        _ = try await store.apply(ids.map { world.bridged($0, at: 1000) }, receivedAt: Self.received)
        let scope = world.scope(.network, world.networkA.id)
        _ = try await store.updateCall(
            CallSelector(transactionID: "C0", externalUniqueID: nil), in: scope,
            CallUpdate(externalUniqueID: "held", customData: []))
        let refused = try await withThrowingTaskGroup(of: Bool.self) { group in
            for index in 0..<200 {
                group.addTask {
                    let id = ids[1 + index % 19]
                    let write = CustomDataWrite(
                        name: "n\(index)", entry: CustomDataEntry(value: .string("v"), source: publicAPISource))
                    do {
                        _ = try await store.updateCall(
                            CallSelector(transactionID: id, externalUniqueID: nil), in: scope,
                            CallUpdate(externalUniqueID: index % 3 == 0 ? "held" : nil, customData: [write]))
                        return false
                    } catch DomainError.externalIDTaken {
                        return true
                    }
                }
            }
            return try await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        #expect(refused == (0..<200).filter { $0 % 3 == 0 }.count)
        let calls = try await store.currentCalls(
            CallQuery(scope: scope, transactionID: nil, externalUniqueID: nil, phonePair: nil))
        for call in calls where call.transactionID != "C0" {
            let slot = Int(call.transactionID.dropFirst())! - 1
            let landed = (0..<200).filter { $0 % 19 == slot && $0 % 3 != 0 }
            #expect(Set(call.customData.keys) == Set(landed.map { "n\($0)" }), "\(call.transactionID)")
            #expect(call.version == Int64(1 + landed.count) && call.externalUniqueID == nil, "\(call.transactionID)")
        }
    }

    @Test(arguments: StoreBackend.available)
    func updatesFindOnlyLiveCallsInScope(_ backend: StoreBackend) async throws {
        let world = try await Fixture.make(on: backend)
        let store = world.store
        _ = try await store.apply(
            [world.bridged("T", at: 1000, advertiser: world.advertiserA1), world.bridged("E", at: 1000)],
            receivedAt: Self.received)
        _ = try await store.apply([world.ended("E", at: 2000)], receivedAt: Self.received)
        let write = CustomDataWrite(
            name: "Stage", entry: CustomDataEntry(value: .string("New"), source: publicAPISource))
        let update = CallUpdate(externalUniqueID: "ext-1", customData: [write])

        await #expect(throws: DomainError.notFound) {
            try await store.updateCall(
                CallSelector(transactionID: "T", externalUniqueID: nil),
                in: world.scope(.advertiser, world.advertiserA2.id), update)
        }
        await #expect(throws: DomainError.notFound) {
            try await store.updateCall(
                CallSelector(transactionID: "E", externalUniqueID: nil), in: world.scope(.network, world.networkA.id),
                update)
        }
        let updated = try await store.updateCall(
            CallSelector(transactionID: "T", externalUniqueID: nil),
            in: world.scope(.advertiser, world.advertiserA1.id), update)
        #expect(updated.externalUniqueID == "ext-1" && updated.customData["Stage"] == write.entry)
        let byExternal = try await store.updateCall(
            CallSelector(transactionID: "T", externalUniqueID: "ext-1"), in: world.scope(.network, world.networkA.id),
            CallUpdate(externalUniqueID: nil, customData: []))
        #expect(byExternal == updated)
        await #expect(throws: DomainError.notFound) {
            try await store.updateCall(
                CallSelector(transactionID: "T", externalUniqueID: "other"),
                in: world.scope(.network, world.networkA.id), update)
        }
    }

    @Test(arguments: StoreBackend.available)
    func externalIDsAreUniqueAmongANetworksLiveCalls(_ backend: StoreBackend) async throws {
        let world = try await Fixture.make(on: backend)
        let store = world.store
        _ = try await store.apply(
            [
                world.bridged("T1", at: 1000), world.bridged("T2", at: 1000),
                world.bridged("T3", at: 1000, network: world.networkB),
            ],
            receivedAt: Self.received)
        let scopeA = world.scope(.network, world.networkA.id)
        _ = try await store.updateCall(
            CallSelector(transactionID: "T1", externalUniqueID: nil), in: scopeA,
            CallUpdate(externalUniqueID: "X", customData: []))
        await #expect(throws: DomainError.externalIDTaken) {
            try await store.updateCall(
                CallSelector(transactionID: "T2", externalUniqueID: nil), in: scopeA,
                CallUpdate(externalUniqueID: "X", customData: []))
        }
        // Another network may use the same id, and so may a call of A once the holder has ended.
        _ = try await store.updateCall(
            CallSelector(transactionID: "T3", externalUniqueID: nil), in: world.scope(.network, world.networkB.id),
            CallUpdate(externalUniqueID: "X", customData: []))
        _ = try await store.apply([world.ended("T1", at: 2000)], receivedAt: Self.received)
        let now = try await store.updateCall(
            CallSelector(transactionID: "T2", externalUniqueID: nil), in: scopeA,
            CallUpdate(externalUniqueID: "X", customData: []))
        #expect(now.externalUniqueID == "X")
    }

    @Test(arguments: StoreBackend.available)
    func concurrentClaimsOfOneExternalIDHaveOneWinner(_ backend: StoreBackend) async throws {
        let world = try await Fixture.make(on: backend)
        let ids = (0..<20).map { "R\($0)" }
        _ = try await world.store.apply(ids.map { world.bridged($0, at: 1000) }, receivedAt: Self.received)
        let scope = world.scope(.network, world.networkA.id)
        let results = await withTaskGroup(of: Bool.self) { group in
            for id in ids {
                group.addTask {
                    (try? await world.store.updateCall(
                        CallSelector(transactionID: id, externalUniqueID: nil), in: scope,
                        CallUpdate(externalUniqueID: "shared", customData: []))) != nil
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.filter { $0 }.count == 1)
    }

    @Test(arguments: StoreBackend.available)
    func concurrentCustomDataUpdatesAllLand(_ backend: StoreBackend) async throws {
        let world = try await Fixture.make(on: backend)
        _ = try await world.store.apply([world.bridged("T", at: 1000)], receivedAt: Self.received)
        let scope = world.scope(.network, world.networkA.id)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<50 {
                group.addTask {
                    let write = CustomDataWrite(
                        name: "f\(index)", entry: CustomDataEntry(value: .string("v\(index)"), source: publicAPISource))
                    _ = try await world.store.updateCall(
                        CallSelector(transactionID: "T", externalUniqueID: nil), in: scope,
                        CallUpdate(externalUniqueID: nil, customData: [write]))
                }
            }
            try await group.waitForAll()
        }
        let call = try #require(
            try await world.store.currentCalls(
                CallQuery(scope: scope, transactionID: "T", externalUniqueID: nil, phonePair: nil)
            ).first)
        #expect(call.customData.count == 50)
        #expect((0..<50).allSatisfy { call.customData["f\($0)"]?.value == .string("v\($0)") })
    }

    static func status(_ outcome: CallLifecycle.Outcome) -> EventStatus {
        switch outcome {
        case .applied: .applied
        case .duplicate: .duplicate
        case .ignored: .ignored
        case .rejected: .rejected
        }
    }
}
