import CIPDomain
import CIPStore
import CIPTestSupport
import Testing

@Suite("Store contract: the change log (SPEC 8's sequence numbers)")
struct ChangeLogContractTests {
    static let received = Timestamp(milliseconds: 10_000)

    @Test(arguments: StoreBackend.available)
    func everyChangeIsLoggedOnceInOrderWithWhatChanged(_ backend: StoreBackend) async throws {
        let world = try await Fixture.make(on: backend)
        let store = world.store
        let network = OrganizationRef(type: .network, id: world.networkA.id)
        _ = try await store.apply(
            [world.bridged("T1", at: 1000, advertiser: world.advertiserA1), world.bridged("T2", at: 1100)],
            receivedAt: Self.received)
        // A repeat, an older event and a call_ended before its bridge change no call object: no record.
        _ = try await store.apply(
            [
                world.bridged("T1", at: 1000, advertiser: world.advertiserA1), world.bridged("T1", at: 900),
                world.ended("EARLY", at: 1000),
            ],
            receivedAt: Self.received)
        let write = CustomDataWrite(
            name: "Stage", entry: CustomDataEntry(value: .string("Won"), source: publicAPISource))
        let updated = try await store.updateCall(
            CallSelector(transactionID: "T1", externalUniqueID: nil), in: world.scope(.network, world.networkA.id),
            CallUpdate(externalUniqueID: "X1", customData: [write]))
        #expect(updated.version == 2)
        // The same update again is a no-op: no new version, no record.
        let again = try await store.updateCall(
            CallSelector(transactionID: "T1", externalUniqueID: nil), in: world.scope(.network, world.networkA.id),
            CallUpdate(externalUniqueID: "X1", customData: [write]))
        #expect(again.version == 2)
        _ = try await store.apply([world.ended("T1", at: 2000)], receivedAt: Self.received)
        _ = try await store.apply([world.bridged("B", at: 1000, network: world.networkB)], receivedAt: Self.received)
        #expect(
            try await store.expireCalls(
                silentSince: Timestamp(milliseconds: 20_000), now: Timestamp(milliseconds: 30_000)) == 2)

        let changes = try await store.allChanges(visibleTo: network, numberedThrough: 7)
        #expect(changes.map(\.kind) == [.bridged, .bridged, .updated, .ended, .ended])
        #expect(changes.map(\.transactionID) == ["T1", "T2", "T1", "T1", "T2"])
        #expect(changes.map(\.sequence) == changes.map(\.sequence).sorted())
        #expect(Set(changes.map(\.sequence)).count == changes.count)
        #expect(changes[2].changed == ["external_unique_id", "custom_data.Stage"])
        #expect(changes.filter { $0.kind != .updated }.allSatisfy { $0.changed.isEmpty })
        let versions = changes.compactMap { JSONValue.parse(text: $0.call)?["version"] }
        #expect(versions == [.integer(1), .integer(1), .integer(2), .integer(3), .integer(2)])
        let ended = try #require(JSONValue.parse(text: changes[3].call))
        #expect(ended["end_reason"]?.stringValue == "ended")
        #expect(JSONValue.parse(text: changes[4].call)?["end_reason"]?.stringValue == "expired")

        // Visibility: an advertiser sees its own calls' changes; another network sees only its own.
        let advertiser = try await store.allChanges(
            visibleTo: OrganizationRef(type: .advertiser, id: world.advertiserA1.id))
        #expect(advertiser.map(\.transactionID) == ["T1", "T1", "T1"])
        let other = try await store.allChanges(visibleTo: OrganizationRef(type: .network, id: world.networkB.id))
        #expect(other.map(\.kind) == [.bridged, .ended])
        // Reading after a sequence number gives exactly what follows it.
        #expect(try await store.allChanges(after: changes[1].sequence, visibleTo: network) == Array(changes[2...]))
        #expect(try await store.changeLogBounds() == ChangeLogBounds(purgedThrough: 0, latest: 7))
    }

    /// A batch long enough that its change records are written out on another thread (SQLite): each
    /// is logged in its event's place, with its own call.
    @Test(arguments: StoreBackend.available)
    func aLongBatchsChangesAreLoggedInItsEventsOrderEachWithItsCall(_ backend: StoreBackend) async throws {
        let world = try await Fixture.make(on: backend)
        let store = world.store
        let bridged = (0..<200).map { world.bridged("L\($0)", at: 1000 + Int64($0)) }
        let ended = (0..<100).map { world.ended("L\(199 - $0)", at: 5000) }
        _ = try await store.apply(bridged + ended, receivedAt: Self.received)
        let changes = try await store.allChanges(
            visibleTo: OrganizationRef(type: .network, id: world.networkA.id), numberedThrough: 300)
        #expect(changes.map(\.transactionID) == (bridged + ended).map(\.transactionID))
        #expect(changes.map(\.kind) == Array(repeating: .bridged, count: 200) + Array(repeating: .ended, count: 100))
        for change in changes {
            let call = try #require(JSONValue.parse(text: change.call))
            #expect(call["transaction_id"]?.stringValue == change.transactionID)
            #expect((call["end_reason"] != nil) == (change.kind == .ended))
        }
    }

    @Test(arguments: StoreBackend.available)
    func aSnapshotPlusTheChangesAfterItIsTheStateAtAnyLaterPoint(_ backend: StoreBackend) async throws {
        let world = try await Fixture.make(on: backend)
        let store = world.store
        let scope = world.scope(.network, world.networkA.id)
        _ = try await store.apply(
            (0..<5).map { world.bridged("S\($0)", at: 1000 + Int64($0)) }, receivedAt: Self.received)
        _ = try await store.allChanges(visibleTo: scope.organization.ref, numberedThrough: 5)
        let snapshot = try await store.snapshot(scope)
        #expect(snapshot.sequence == 5)
        #expect(snapshot.calls.count == 5)

        _ = try await store.apply(
            [world.ended("S0", at: 3000), world.bridged("S9", at: 3000)], receivedAt: Self.received)
        _ = try await store.updateCall(
            CallSelector(transactionID: "S1", externalUniqueID: nil), in: scope,
            CallUpdate(externalUniqueID: "E1", customData: []))
        let later = try await store.allChanges(
            after: snapshot.sequence, visibleTo: scope.organization.ref, numberedThrough: 8)

        var calls: [String: String] = [:]
        for object in snapshot.calls {
            let text = String(decoding: object.bytes, as: UTF8.self)
            calls[JSONValue.parse(text: text)!["transaction_id"]!.stringValue!] = text
        }
        for change in later {
            if change.kind == .ended {
                calls[change.transactionID] = nil
            } else {
                calls[change.transactionID] = change.call
            }
        }
        let now = try await store.currentCallObjects(
            CallQuery(scope: scope, transactionID: nil, externalUniqueID: nil, phonePair: nil))
        let expected = Dictionary(
            uniqueKeysWithValues: now.map { object in
                let text = String(decoding: object.bytes, as: UTF8.self)
                return (JSONValue.parse(text: text)!["transaction_id"]!.stringValue!, text)
            })
        #expect(calls == expected)
        #expect(try await store.snapshot(scope).calls == now)
    }

    @Test(arguments: StoreBackend.available)
    func changesPastRetentionArePurgedAsAPrefix(_ backend: StoreBackend) async throws {
        let world = try await Fixture.make(on: backend)
        let store = world.store
        let network = OrganizationRef(type: .network, id: world.networkA.id)
        _ = try await store.apply([world.bridged("P1", at: 1000)], receivedAt: Timestamp(milliseconds: 1_000))
        _ = try await store.apply([world.bridged("P2", at: 1000)], receivedAt: Timestamp(milliseconds: 2_000))
        _ = try await store.apply([world.bridged("P3", at: 1000)], receivedAt: Timestamp(milliseconds: 3_000))
        _ = try await store.allChanges(visibleTo: network, numberedThrough: 3)
        #expect(try await store.purgeChanges(committedBefore: Timestamp(milliseconds: 2_500)) == 2)
        #expect(try await store.changeLogBounds() == ChangeLogBounds(purgedThrough: 2, latest: 3))
        #expect(try await store.allChanges(visibleTo: network).map(\.transactionID) == ["P3"])
    }
}
