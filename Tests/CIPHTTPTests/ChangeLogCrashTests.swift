import CIPDomain
import CIPStore
import CIPTestSupport
import Foundation
import Logging
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Concurrent writers through real `cip serve` processes, one of them killed with SIGKILL mid-run,
/// and a tailer of the change log beside them: it must see every change exactly once, in order.
@Suite("The change log under concurrent writers and kill -9")
struct ChangeLogCrashTests {
    /// The servers the writers reach; a killed one is replaced by a new process on the same database.
    final class Nodes: Sendable {
        let database: String
        private let servers: Mutex<[ServerProcess]>

        init(database: String, count: Int) async throws {
            self.database = database
            let started = try (0..<count).map { _ in try ServerProcess(database: database) }
            for server in started { try await server.waitUntilUp() }
            servers = Mutex(started)
        }

        func url(_ index: Int) -> String { servers.withLock { $0[index % $0.count].baseURL } }

        func killAndRestart(_ index: Int) async throws {
            let victim = servers.withLock { $0[index] }
            victim.kill(SIGKILL)
            _ = await victim.waitForExit()
            let replacement = try ServerProcess(database: database)
            try await replacement.waitUntilUp()
            servers.withLock { $0[index] = replacement }
        }

        func stop() { servers.withLock { for server in $0 { server.kill(SIGKILL) } } }
    }

    @Test func sqliteServerKilledMidRun() async throws {
        let path = try TemporaryFolder.make().appendingPathComponent("cip.sqlite").path
        try await run(database: path, nodes: 1) { try SQLiteDatabase(path: path) }
    }

    @Test(.enabled(if: StoreBackend.postgresURL != nil, "needs CIP_TEST_POSTGRES_URL"))
    func postgresNodeKilledMidRunWithTheOtherWriting() async throws {
        let url = try await StoreBackend.freshPostgresDatabase()
        let database = try StoreBackend.postgresDatabase(url, label: "test.tailer")
        let pool = Task { await database.run() }
        defer { pool.cancel() }
        try await run(database: url, nodes: 2) { database }
    }

    private func run(database: String, nodes count: Int, log: () throws -> any ChangeLogStore) async throws {
        let network = try #require(
            try CIPBinary.admin(["network", "create", "--name", "Crash"], database: database)["id"]?.positiveID)
        for index in 0..<4 {
            _ = try CIPBinary.admin(
                ["field", "create", "--network", String(network), "--name", "f\(index)", "--type", "short-text"],
                database: database)
        }
        let org = try #require(
            try CIPBinary.admin(
                ["token", "create", "--organization-type", "network", "--id", String(network)], database: database)[
                    "token"]?.stringValue)
        let telephony = try #require(
            try CIPBinary.admin(["token", "create", "--telephony"], database: database)["token"]?.stringValue)
        let nodes = try await Nodes(database: database, count: count)
        defer { nodes.stop() }
        let changeLog = try log()
        let ref = OrganizationRef(type: .network, id: network)

        // The tailer reads the log while the writers write.
        let seen = Mutex<[LoggedChange]>([])
        let tailing = Task {
            while !Task.isCancelled {
                let after = seen.withLock { $0.last?.sequence ?? 0 }
                if let page = try? await changeLog.changes(after: after, visibleTo: ref, limit: 200) {
                    seen.withLock { $0 += page }
                }
                try? await Task.sleep(for: .milliseconds(10))
            }
        }

        /// Sends until some node answers (a killed node's requests go to the next one).
        @Sendable func send(_ method: String, _ path: String, token: String, body: String, writer: Int) async -> Int {
            for attempt in 0..<100 {
                if let (status, _) = try? await HTTP.send(
                    method, nodes.url(writer + attempt) + "/api/2022-08-01" + path, token: token, body: body),
                    status != 503, status != 0
                {
                    return status
                }
                try? await Task.sleep(for: .milliseconds(50))
            }
            return 0
        }
        let writers = 6
        let callsPerWriter = 20
        let writing = Task {
            await withTaskGroup(of: Void.self) { group in
                for writer in 0..<writers {
                    group.addTask {
                        for call in 0..<callsPerWriter {
                            let id = "W\(writer)C\(call)"
                            let event =
                                #"{"event":"call_bridged","transaction_id":"\#(id)","network_id":\#(network),"occurred_at":"2022-12-10T13:00:00Z","calling_phone_number":"530-999-9999","destination_phone_number":"855-559-5599"}"#
                            _ = await send(
                                "POST", "/telephony/call_events.json", token: telephony, body: event, writer: writer)
                            for field in 0..<4 {
                                _ = await send(
                                    "PUT",
                                    "/calls_in_progress.json?id=\(network)&organization_type=network&transaction_id=\(id)",
                                    token: org,
                                    body:
                                        #"{"call_in_progress":{"custom_data":[{"name":"f\#(field)","value":"v\#(field)"}]}}"#,
                                    writer: writer + field)
                            }
                            if call % 3 == 0 {
                                let end =
                                    #"{"event":"call_ended","transaction_id":"\#(id)","network_id":\#(network),"occurred_at":"2022-12-10T13:05:00Z"}"#
                                _ = await send(
                                    "POST", "/telephony/call_events.json", token: telephony, body: end, writer: writer)
                            }
                        }
                    }
                }
            }
        }
        // Kill once the writers are well under way, and check that they were still writing.
        while seen.withLock({ $0.count }) < 60 { try await Task.sleep(for: .milliseconds(10)) }
        try await nodes.killAndRestart(0)
        let loggedAtKill = seen.withLock { $0.count }
        await writing.value

        // Every call's writes were acknowledged in the end: 1 bridge + 4 updates (+ 1 end) each.
        let expected = writers * callsPerWriter * 5 + writers * ((callsPerWriter + 2) / 3)
        let deadline = ContinuousClock.now + .seconds(20)
        while seen.withLock({ $0.count }) < expected, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        try await Task.sleep(for: .milliseconds(300))
        tailing.cancel()
        let changes = seen.withLock { $0 }

        #expect(changes.count == expected)
        #expect(loggedAtKill < expected / 2, "the kill came after most writes: \(loggedAtKill) of \(expected)")
        // Numbers run 1, 2, 3, … with no gap and no repeat: nothing was skipped or seen twice.
        #expect(changes.map(\.sequence) == (0..<Int64(changes.count)).map { $0 + 1 })
        // Per call, versions go up by one from 1: every change of the call, in the order it happened.
        var versions: [String: [Int64]] = [:]
        for change in changes {
            guard case .integer(let version)? = JSONValue.parse(text: change.call)?["version"] else {
                Issue.record("no version in \(change.call)")
                continue
            }
            versions[change.transactionID, default: []].append(version)
        }
        for (id, list) in versions {
            #expect(list == Array(1...Int64(list.count)), "\(id)")
        }
        // Replaying the log gives the calls in progress the API lists.
        var live: [String: Int64] = [:]
        for change in changes {
            live[change.transactionID] = change.kind == .ended ? nil : versions[change.transactionID]?.last
        }
        let (_, listed) = try await HTTP.send(
            "GET",
            nodes.url(0)
                + "/api/2022-08-01/calls_in_progress/current_calls.json?id=\(network)&organization_type=network",
            token: org)
        var listedVersions: [String: Int64] = [:]
        for call in listed["current_calls"]?.arrayValue ?? [] {
            if let id = call["transaction_id"]?.stringValue, case .integer(let version)? = call["version"] {
                listedVersions[id] = version
            }
        }
        #expect(listedVersions == live)
        #expect(listedVersions.count == writers * callsPerWriter - writers * ((callsPerWriter + 2) / 3))
    }
}
