import CIPDomain
import CIPTestSupport
import Testing

@testable import CIPStore

/// The writes of a group commit take their sequence numbers from the group's own count, stored once
/// before it commits: numbers stay consecutive, a write refused inside the group takes none, and a
/// server opened again on the file continues after the last one.
@Suite("SQLite: sequence numbers of grouped writes")
struct SQLiteGroupSequenceTests {
    @Test func areConsecutiveSkipRefusedWritesAndContinueAfterAReopen() async throws {
        let database = try await StoreBackend.freshSQLiteDatabase()
        let store = try await database.serve()
        let world = try await Fixture.make(in: store)
        let calls = (0..<40).map { "T\($0)" }
        _ = try await store.apply(
            calls.enumerated().map { world.bridged($1, at: 1_000 + Int64($0)) }, receivedAt: Timestamp(milliseconds: 1))
        let scope = world.scope(.network, world.networkA.id)
        _ = try await store.updateCall(
            CallSelector(transactionID: "T0", externalUniqueID: nil), in: scope,
            CallUpdate(externalUniqueID: "TAKEN", customData: []))
        // Concurrent updates of 39 calls (groups form while one commits); every third claims an
        // external id another call holds and is refused.
        let refused = await withTaskGroup(of: Bool.self) { group in
            for (index, call) in calls.dropFirst().enumerated() {
                group.addTask {
                    let update = CallUpdate(
                        externalUniqueID: index % 3 == 0 ? "TAKEN" : nil,
                        customData: [
                            CustomDataWrite(
                                name: "f1", entry: CustomDataEntry(value: .string("v\(index)"), source: publicAPISource)
                            )
                        ])
                    do {
                        _ = try await store.updateCall(
                            CallSelector(transactionID: call, externalUniqueID: nil), in: scope, update)
                        return false
                    } catch {
                        return error as? DomainError == .externalIDTaken
                    }
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(refused == 13)
        let logged = try await database.changes(after: 0, visibleTo: nil, limit: 1_000).map(\.sequence)
        #expect(logged == Array(1...Int64(40 + 1 + 26)))

        try store.close()
        let reopened = try SQLiteDatabase(path: database.path)
        let again = try await reopened.serve()
        defer { try? again.close() }
        #expect(try await reopened.changeLogBounds().latest == 67)
        _ = try await again.updateCall(
            CallSelector(transactionID: "T5", externalUniqueID: nil), in: scope,
            CallUpdate(externalUniqueID: "E5", customData: []))
        #expect(try await reopened.changes(after: 67, visibleTo: nil, limit: 10).map(\.sequence) == [68])
    }
}
