import CIPDomain
import CIPStore
import CIPTestSupport
import Testing

/// A PUT's answer (`updateCallObject`) is the call as stored after it, byte for byte, with its ETag,
/// whichever object the store sends: one written for the answer, its change record's, or memory's.
@Suite("Store contract: a PUT's answer")
struct UpdateAnswerContractTests {
    @Test(arguments: StoreBackend.available)
    func isTheStoredCallAfterEveryKindOfUpdate(_ backend: StoreBackend) async throws {
        let world = try await Fixture.make(on: backend)
        let store = world.store
        _ = try await store.apply(
            [world.bridged("T1", at: 1_000, advertiser: world.advertiserA1)], receivedAt: Timestamp(milliseconds: 1))
        let scope = world.scope(.network, world.networkA.id)
        let byID = CallSelector(transactionID: "T1", externalUniqueID: nil)
        let byExternalID = CallSelector(transactionID: nil, externalUniqueID: "E1")
        func set(_ name: String, _ value: CustomDataValue) -> CustomDataWrite {
            CustomDataWrite(name: name, entry: CustomDataEntry(value: value, source: publicAPISource))
        }
        let disposition = CallUpdate(externalUniqueID: "E1", customData: [set("Call Disposition", .string("SOLD"))])
        let qualified = CallUpdate(
            externalUniqueID: nil,
            customData: [set("Qualified", .bool(true)), set("Notes", .string("a \"quoted\"\nnote"))])
        let updates: [(String, CallSelector, CallUpdate)] = [
            ("a change", byID, disposition),
            ("the same again (no-op)", byID, disposition),
            ("a change by external id", byExternalID, qualified),
            ("the same again by external id (no-op)", byExternalID, qualified),
            (
                "a change under If-Match: *", byID,
                CallUpdate(externalUniqueID: nil, customData: [set("Stage", .string("Won"))], precondition: .any)
            ),
            ("a new external id", byID, CallUpdate(externalUniqueID: "E2", customData: [])),
        ]
        var versions: [Int64] = []
        for (what, selector, update) in updates {
            let answer = try await store.updateCallObject(selector, in: scope, update)
            let query = CallQuery(scope: scope, transactionID: "T1", externalUniqueID: nil, phonePair: nil)
            let stored = try #require(try await store.currentCalls(query).first)
            #expect(answer == UpdatedCall(stored), "\(what)")
            #expect(try await store.currentCallObjects(query) == [answer.object], "\(what)")
            versions.append(stored.version)
        }
        #expect(versions == [2, 2, 3, 3, 4, 5])
    }
}
