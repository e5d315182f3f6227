import CIPDomain
import CIPTestSupport
import Dispatch
import Foundation
import Synchronization
import Testing

@testable import CIPStore

/// A PUT that changes nothing (a client's retry, a value set again) is answered from the live calls
/// in memory, without waiting for the writer; one that changes something still waits its turn.
@Suite("SQLite: a PUT that changes nothing")
struct SQLiteNoOpUpdateTests {
    @Test func isAnsweredWhileTheWriterIsBusyAndAChangeWaitsForIt() async throws {
        let database = try await StoreBackend.freshSQLiteDatabase()
        let store = try await database.serve()
        let world = try await Fixture.make(in: store)
        _ = try await store.apply([world.bridged("T1", at: 1_000)], receivedAt: Timestamp(milliseconds: 1))
        let scope = world.scope(.network, world.networkA.id)
        let byID = CallSelector(transactionID: "T1", externalUniqueID: nil)
        let set = CallUpdate(
            externalUniqueID: "E1",
            customData: [
                CustomDataWrite(name: "f1", entry: CustomDataEntry(value: .string("x"), source: publicAPISource))
            ])
        let first = try await store.updateCall(byID, in: scope, set)

        let writer = WriterHold()
        let holding = Task { try await database.write { _ in writer.holdUntilReleased() } }
        await writer.waitUntilHeld()
        // The same update again, by transaction id and by external id: nothing to write.
        let byExternalID = CallSelector(transactionID: nil, externalUniqueID: "E1")
        let repeated = await Self.answer(within: .seconds(5), whenLate: writer.release) {
            [
                try await store.updateCall(byID, in: scope, set),
                try await store.updateCall(byExternalID, in: scope, set),
            ]
        }
        // A change must wait for the writer: it is not answered while the writer is held.
        let change = CallUpdate(
            externalUniqueID: nil,
            customData: [
                CustomDataWrite(name: "f1", entry: CustomDataEntry(value: .string("y"), source: publicAPISource))
            ])
        let changing = Task { try await store.updateCall(byID, in: scope, change) }
        try await Task.sleep(for: .milliseconds(300))
        let changedEarly = try await store.currentCalls(
            CallQuery(scope: scope, transactionID: "T1", externalUniqueID: nil, phonePair: nil)
        ).first?.version
        writer.release()
        try await holding.value

        #expect(repeated == [first, first], "the repeated update waited for the writer or changed the call")
        #expect(changedEarly == first.version)
        let changed = try await changing.value
        #expect(changed.version == first.version + 1)
        #expect(changed.customData["f1"]?.value == .string("y"))
    }

    /// `work`'s value if it finishes within `limit`, nil otherwise (or if it throws); `whenLate` runs
    /// when time is up first, to let `work` finish.
    private static func answer<T: Sendable>(
        within limit: Duration, whenLate: () -> Void, _ work: @escaping @Sendable () async throws -> T
    ) async -> T? {
        await withTaskGroup(of: T?.self) { group in
            group.addTask { try? await work() }
            group.addTask {
                try? await Task.sleep(for: limit)
                return nil
            }
            let first = await group.next() ?? nil
            if first == nil { whenLate() }
            group.cancelAll()
            return first
        }
    }
}

/// Keeps GRDB's writer queue busy until released, as a long write would.
private final class WriterHold: Sendable {
    private let held = DispatchSemaphore(value: 0)
    private let released = DispatchSemaphore(value: 0)
    private let isReleased = Atomic<Bool>(false)

    /// Runs on the writer queue.
    func holdUntilReleased() {
        held.signal()
        released.wait()
    }

    func waitUntilHeld() async {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                self.held.wait()
                continuation.resume()
            }
        }
    }

    /// Lets the writer go; only the first call counts.
    func release() {
        if !isReleased.exchange(true, ordering: .relaxed) { released.signal() }
    }
}
