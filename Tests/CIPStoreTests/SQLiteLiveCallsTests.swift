import CIPDomain
import CIPTestSupport
import Foundation
import Testing

@testable import CIPStore

/// The SQLite store answers reads from its in-memory copy of the live calls; these tests hold that
/// copy to the file it mirrors.
@Suite("SQLite: live calls in memory")
struct SQLiteLiveCallsTests {
    @Test func memoryAgreesWithTheFileAfterEveryKindOfWrite() async throws {
        let path = try TemporaryFolder.make().appendingPathComponent("cip.sqlite").path
        var served: [String: [CallRecord]] = [:]
        var servedObjects: [String: [CallObjectJSON]] = [:]
        var queries: [(String, CallQuery)] = []
        let database = try SQLiteDatabase(path: path)
        try await database.migrate()
        let store = try await database.serve()
        do {
            let world = try await Fixture.make(in: store)
            // Some calls exist before the memory is loaded, the rest arrive after.
            _ = try await store.apply(
                (0..<20).map { world.bridged("EARLY\($0)", at: 1000 + Int64($0)) },
                receivedAt: Timestamp(milliseconds: 1))
            #expect(try await store.liveCallCount() == 20)

            let advertisers = [world.advertiserA1, world.advertiserA2]
            var events: [CallEvent] = []
            for index in 0..<200 {
                // Few distinct numbers, so several calls share a phone pair; equal times test the tie order.
                events.append(
                    world.bridged(
                        "T\(index)", at: 2000 + Int64(index % 7),
                        advertiser: index % 5 == 0 ? nil : advertisers[index % 2],
                        calling: "+1530555000\(index % 4)", destination: "+1855555000\(index % 3)"))
            }
            events += (0..<30).map {
                world.bridged("B\($0)", at: 2000, advertiser: world.advertiserB1, network: world.networkB)
            }
            _ = try await store.apply(events, receivedAt: Timestamp(milliseconds: 5_000))

            let scopeA = world.scope(.network, world.networkA.id)
            for index in stride(from: 0, to: 200, by: 3) {
                let write = CustomDataWrite(
                    name: "f\(index % 60)", entry: CustomDataEntry(value: .string("v\(index)"), source: publicAPISource)
                )
                _ = try await store.updateCall(
                    CallSelector(transactionID: "T\(index)", externalUniqueID: nil), in: scopeA,
                    CallUpdate(externalUniqueID: "E\(index)", customData: [write]))
            }
            // A replaced external id frees the old one; a taken one changes nothing.
            _ = try await store.updateCall(
                CallSelector(transactionID: nil, externalUniqueID: "E0"), in: scopeA,
                CallUpdate(externalUniqueID: "E0-new", customData: []))
            await #expect(throws: DomainError.externalIDTaken) {
                _ = try await store.updateCall(
                    CallSelector(transactionID: "T1", externalUniqueID: nil), in: scopeA,
                    CallUpdate(externalUniqueID: "E3", customData: []))
            }
            // Ends, a late bridge that must not revive, a status change, and expiry of the silent early calls.
            _ = try await store.apply(
                (0..<200).filter { $0 % 4 == 1 }.map { world.ended("T\($0)", at: 9_000) },
                receivedAt: Timestamp(milliseconds: 9_000))
            _ = try await store.apply([world.bridged("T1", at: 9_500)], receivedAt: Timestamp(milliseconds: 9_500))
            #expect(
                try await store.expireCalls(
                    silentSince: Timestamp(milliseconds: 2_000), now: Timestamp(milliseconds: 10_000)) == 20)
            // One batch changing calls more than once: only their last state counts.
            _ = try await store.apply(
                [
                    world.bridged("M", at: 3_000), world.ended("M", at: 3_100), world.bridged("N", at: 3_000),
                    world.bridged("N", at: 3_050),
                ],
                receivedAt: Timestamp(milliseconds: 10_000))

            for ref in [
                OrganizationRef(type: .network, id: world.networkA.id),
                OrganizationRef(type: .network, id: world.networkB.id),
            ]
                + advertisers.map({ OrganizationRef(type: .advertiser, id: $0.id) })
            {
                let scope = world.scope(ref.type, ref.id)
                queries.append(
                    (
                        "all of \(ref)",
                        CallQuery(scope: scope, transactionID: nil, externalUniqueID: nil, phonePair: nil)
                    ))
                for calling in 0..<4 {
                    for destination in 0..<3 {
                        let pair = PhonePair(calling: "+1530555000\(calling)", destination: "+1855555000\(destination)")
                        queries.append(
                            (
                                "\(pair) in \(ref)",
                                CallQuery(scope: scope, transactionID: nil, externalUniqueID: nil, phonePair: pair)
                            ))
                    }
                }
                for index in 0..<200 {
                    queries.append(
                        (
                            "T\(index) in \(ref)",
                            CallQuery(scope: scope, transactionID: "T\(index)", externalUniqueID: nil, phonePair: nil)
                        ))
                    queries.append(
                        (
                            "E\(index) in \(ref)",
                            CallQuery(scope: scope, transactionID: nil, externalUniqueID: "E\(index)", phonePair: nil)
                        ))
                }
                queries.append(
                    (
                        "E0-new in \(ref)",
                        CallQuery(scope: scope, transactionID: nil, externalUniqueID: "E0-new", phonePair: nil)
                    ))
                for id in ["M", "N"] {
                    queries.append(
                        (
                            "\(id) in \(ref)",
                            CallQuery(scope: scope, transactionID: id, externalUniqueID: nil, phonePair: nil)
                        ))
                }
            }
            for (name, query) in queries {
                served[name] = try await store.currentCalls(query)
                servedObjects[name] = try await store.currentCallObjects(query)
            }
            #expect(served["all of \(OrganizationRef(type: .network, id: world.networkA.id))"]?.count == 151)
            #expect(served["M in \(OrganizationRef(type: .network, id: world.networkA.id))"] == [])
            #expect(
                served["N in \(OrganizationRef(type: .network, id: world.networkA.id))"]?.map(\.transferStart) == [
                    Timestamp(milliseconds: 3_050)
                ])
            #expect(served["T1 in \(OrganizationRef(type: .network, id: world.networkA.id))"] == [])
            #expect(served["E0 in \(OrganizationRef(type: .network, id: world.networkA.id))"] == [])
            #expect(
                served["E0-new in \(OrganizationRef(type: .network, id: world.networkA.id))"]?.map(\.transactionID) == [
                    "T0"
                ])
        }
        // The first store is closed; a new one reads the same file afresh.
        try store.close()
        let reopened = try await SQLiteDatabase(path: path).serve()
        for (name, query) in queries {
            let fromFile = try await reopened.currentCalls(query)
            #expect(fromFile == served[name], "\(name)")
            // The objects memory kept as writes left them are those written afresh from the file.
            #expect(try await reopened.currentCallObjects(query) == servedObjects[name], "\(name)")
        }
    }

    @Test func aSecondServerOnTheSameFileIsRefused() async throws {
        let path = try TemporaryFolder.make().appendingPathComponent("cip.sqlite").path
        let firstDatabase = try SQLiteDatabase(path: path)
        try await firstDatabase.migrate()
        let first = try await firstDatabase.serve()
        let second = try SQLiteDatabase(path: path)
        let error = await #expect(throws: ServingLockError.self) { _ = try await second.serve() }
        #expect(error?.description.contains("already serving") == true)
        // Reading the catalog, as `cip admin` does, is still fine beside a server.
        _ = try await second.loadCatalog()
        try first.close()
        #expect(try await second.serve().liveCallCount() == 0)
    }

    /// The WAL stays short while writes never pause: the writer's own checkpoints (`WALCheckpoints`,
    /// after each group's answers) copy it back and let it start over (the checkpoint's 4,000 pages
    /// and a little more here: 16.5 MB; 76 MB when the checkpoint after a group never runs). A passive
    /// checkpointer on another connection, tried instead, never let a writer that is always busy start
    /// it over: 48 MB in 30 rounds of this test, 1.85 GB in a crash campaign, whose restarts after
    /// `kill -9` took 0.36 s instead of 0.06 s.
    @Test func theWALStaysShortWhileWritesNeverPause() async throws {
        let path = try TemporaryFolder.make().appendingPathComponent("cip.sqlite").path
        let database = try SQLiteDatabase(path: path)
        try await database.migrate()
        let store = try await database.serve()
        let world = try await Fixture.make(in: store)
        let ids = (0..<1000).map { "W\($0)" }
        _ = try await store.apply(ids.map { world.bridged($0, at: 1000) }, receivedAt: Timestamp(milliseconds: 1))
        let scope = world.scope(.network, world.networkA.id)
        let walSize = { (try? FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? UInt64) ?? 0 }
        var largest: UInt64 = 0
        for round in 0..<20 {
            // 16 writers at once, so groups form and the writer never waits for work.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for lane in 0..<16 {
                    group.addTask {
                        for id in ids where Int(id.dropFirst())! % 16 == lane {
                            let write = CustomDataWrite(
                                name: "Stage",
                                entry: CustomDataEntry(value: .string("r\(round)"), source: publicAPISource))
                            _ = try await store.updateCall(
                                CallSelector(transactionID: id, externalUniqueID: nil), in: scope,
                                CallUpdate(externalUniqueID: nil, customData: [write]))
                        }
                    }
                }
                try await group.waitForAll()
            }
            largest = max(largest, walSize())
        }
        // Checkpoints come due at `WALCheckpoints.pages` pages; one group more may land before one runs.
        let bound = UInt64(WALCheckpoints.pages) * 4096 + 4_000_000
        #expect(largest < bound, "largest WAL: \(largest) bytes")
        try store.close()
    }
}
