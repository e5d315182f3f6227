import CIPDomain
import CIPStore
import CIPTestSupport
import Foundation
import Testing

@Suite("cip admin calls export (SPEC 5, 6)", .serialized)
struct ExportTests {
    @Test func exportsCompletedCallsWithEveryValueAndFilters() async throws {
        let path = try TemporaryFolder.make().appendingPathComponent("export.sqlite").path
        let database = try SQLiteDatabase(path: path)
        try await database.migrate()
        let store = try await database.serve()
        let network = try await store.createNetwork(name: "N", country: "US")
        let other = try await store.createNetwork(name: "O", country: "US")
        let advertiser = try await store.createAdvertiser(networkID: network.id, name: "A", idFromNetwork: nil)
        let write = CustomDataWrite(name: "Stage", entry: CustomDataEntry(value: .string("Won"), source: "Ivr"))
        func event(
            _ kind: CallEventKind, _ id: String, _ network: Int64, _ time: String, advertiser: Int64? = nil
        ) -> CallEvent {
            CallEvent(
                kind: kind, transactionID: id, networkID: network, advertiserID: advertiser,
                occurredAt: Timestamp(iso8601: time)!, callStart: nil,
                callingPhoneNumber: kind == .bridged ? "+15309999999" : nil,
                destinationPhoneNumber: kind == .bridged ? "+18555595599" : nil, status: nil, attributes: [:],
                customData: kind == .bridged ? [write] : [])
        }
        _ = try await store.apply(
            [
                event(.bridged, "E1", network.id, "2022-12-10T13:00:00Z", advertiser: advertiser.id),
                event(.ended, "E1", network.id, "2022-12-10T13:10:00Z"),
                event(.bridged, "E2", network.id, "2022-12-11T13:00:00Z"),
                event(.ended, "E2", network.id, "2022-12-11T13:10:00Z"),
                event(.bridged, "E3", other.id, "2022-12-12T13:00:00Z"),
                event(.ended, "E3", other.id, "2022-12-12T13:10:00Z"),
                event(.bridged, "LIVE", network.id, "2022-12-12T13:00:00Z"),
            ], receivedAt: .now())
        _ = try await store.updateCall(
            CallSelector(transactionID: "LIVE", externalUniqueID: nil),
            in: CallScope(ResolvedOrganization(ref: .init(type: .network, id: network.id), networkID: network.id)),
            CallUpdate(externalUniqueID: "still-live", customData: []))

        func export(_ arguments: [String]) throws -> [JSONValue] {
            let result = try CIPBinary.run(["admin", "calls", "export", "--database", path] + arguments)
            #expect(result.status == 0, "\(result.err)")
            return result.out.split(separator: "\n").compactMap { JSONValue.parse(String($0)) }
        }
        let all = try export([])
        #expect(all.compactMap { $0["transaction_id"]?.stringValue } == ["E1", "E2", "E3"])
        let first = try #require(all.first)
        #expect(first["call_end_time_utc"]?.stringValue == "2022-12-10T13:10:00.000Z")
        #expect(first["end_reason"]?.stringValue == "ended")
        #expect(first["custom_data"]?["Stage"] == .object(["value": .string("Won"), "source": .string("Ivr")]))
        #expect(first["advertiser_id"] == .integer(advertiser.id))
        #expect(first["calling_phone_number"]?.stringValue == "+15309999999")
        #expect(try export(["--network", String(network.id)]).count == 2)
        #expect(
            try export(["--advertiser", String(advertiser.id)]).compactMap { $0["transaction_id"]?.stringValue } == [
                "E1"
            ])
        #expect(
            try export(["--since", "2022-12-11T00:00:00Z"]).compactMap { $0["transaction_id"]?.stringValue } == [
                "E2", "E3",
            ])
        #expect(try export(["--since", "2022-12-11T00:00:00Z", "--until", "2022-12-12T00:00:00Z"]).count == 1)
        let bad = try CIPBinary.run(["admin", "calls", "export", "--database", path, "--since", "yesterday"])
        #expect(bad.status != 0 && bad.err.split(separator: "\n").count == 1)
    }

    /// The exporter streams: its peak memory at 200,000 calls is that at 10,000, not twenty times it.
    @Test func exportMemoryDoesNotGrowWithTheNumberOfCalls() async throws {
        let small = try await Self.database(completedCalls: 10_000)
        let large = try await Self.database(completedCalls: 200_000)
        let smallRun = try Self.peakMemory(["admin", "calls", "export", "--database", small])
        let largeRun = try Self.peakMemory(["admin", "calls", "export", "--database", large])
        #expect(smallRun.status == 0 && largeRun.status == 0)
        print("export peak RSS: 10,000 calls \(smallRun.kilobytes) KiB; 200,000 calls \(largeRun.kilobytes) KiB")
        #expect(largeRun.kilobytes < smallRun.kilobytes + 16 * 1024)
    }

    /// A database with `count` completed calls, written in bulk by SQL beside the store's schema.
    static func database(completedCalls count: Int) async throws -> String {
        let path = try TemporaryFolder.make().appendingPathComponent("bulk.sqlite").path
        let database = try SQLiteDatabase(path: path)
        try await database.migrate()
        _ = try await database.createNetwork(name: "Bulk", country: "US")
        let sql = """
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(count))
            INSERT INTO calls (transaction_id, network_id, state, call_status, calling_phone_number,
                destination_phone_number, call_start, transfer_start, attributes, custom_data, last_event_at,
                last_received_at, ended_at, end_reason)
            SELECT 'BULK' || i, 1, 'completed', 'bridged', '+15309999999', '+18555595599', 1000, 1000,
                '{"city":"Davis"}', '{"Stage":{"value":"Won","source":"Ivr"}}', 2000 + i, 2000 + i, 2000 + i, 'ended'
            FROM n;
            """
        let sqlite = Process()
        sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        sqlite.arguments = [path, sql]
        try sqlite.run()
        sqlite.waitUntilExit()
        guard sqlite.terminationStatus == 0 else { throw TestFailure("sqlite3 failed") }
        return path
    }

    /// Runs `cip` with stdout to /dev/null and returns its exit status and peak resident memory.
    ///
    /// A small Python parent starts it: Linux carries a process's memory high-water mark across
    /// exec, so a child spawned straight from the (large) test process would report the test's size.
    static func peakMemory(_ arguments: [String]) throws -> (status: Int32, kilobytes: Int) {
        let script = """
            import resource, subprocess, sys
            code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
            print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, CIPBinary.url.path] + arguments
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let fields = text.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
        guard fields.count == 2 else { throw TestFailure("could not measure cip: \(text)") }
        return (Int32(fields[0]), fields[1])
    }
}
