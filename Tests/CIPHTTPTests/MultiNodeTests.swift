import CIPDomain
import CIPStreamClient
import CIPTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Two `cip serve` processes on one PostgreSQL behave as one service (issue 4).
@Suite("Several nodes on one PostgreSQL", .enabled(if: StoreBackend.postgresURL != nil, "needs CIP_TEST_POSTGRES_URL"))
struct MultiNodeTests {
    struct Cluster {
        let database: String
        let network: Int64
        let orgToken: String
        let telephonyToken: String
        let nodes: [ServerProcess]

        func api(_ node: Int) -> String { "\(nodes[node].baseURL)/api/2022-08-01" }
        var networkQuery: String { "id=\(network)&organization_type=network" }

        func bridge(_ id: String, via node: Int) async throws -> String? {
            let event =
                #"{"event":"call_bridged","transaction_id":"\#(id)","network_id":\#(network),"occurred_at":"2022-12-10T13:00:00Z","calling_phone_number":"530-999-9999","destination_phone_number":"855-559-5599"}"#
            let (_, reply) = try await HTTP.send(
                "POST", "\(api(node))/telephony/call_events.json", token: telephonyToken, body: event)
            return reply["results"]?[0]?["status"]?.stringValue
        }

        func update(_ id: String, via node: Int, _ body: String) async throws -> Int {
            try await HTTP.send(
                "PUT", "\(api(node))/calls_in_progress.json?\(networkQuery)&transaction_id=\(id)", token: orgToken,
                body: body
            ).0
        }

        func find(_ query: String, via node: Int) async throws -> [JSONValue] {
            let (_, reply) = try await HTTP.send(
                "GET", "\(api(node))/calls_in_progress/current_calls.json?\(networkQuery)\(query)", token: orgToken)
            return reply["current_calls"]?.arrayValue ?? []
        }

        func stop() {
            for node in nodes { node.kill(SIGKILL) }
        }
    }

    static func startCluster(arguments: [String] = []) async throws -> Cluster {
        let database = try await StoreBackend.freshPostgresDatabase()
        let network = try CIPBinary.admin(["network", "create", "--name", "Two Nodes"], database: database)
        let networkID = try #require(network["id"]?.positiveID)
        let org = try CIPBinary.admin(
            ["token", "create", "--organization-type", "network", "--id", String(networkID)], database: database)
        let telephony = try CIPBinary.admin(["token", "create", "--telephony"], database: database)
        let admin = try #require(
            try CIPBinary.admin(["token", "create", "--admin"], database: database)["token"]?.stringValue)
        // Both nodes start together: the schema migrations must still apply exactly once.
        let nodes = [
            try ServerProcess(database: database, arguments: arguments),
            try ServerProcess(database: database, arguments: arguments),
        ]
        for node in nodes { try await node.waitUntilUp() }
        // Forty fields through the admin API: forty `cip admin` processes, each migrating and
        // connecting anew, loaded a machine running the suite enough to time one out.
        for index in 0..<40 {
            let (status, _) = try await HTTP.send(
                "POST", "\(nodes[0].baseURL)/api/2022-08-01/admin/networks/\(networkID)/fields.json", token: admin,
                body: #"{"name":"f\#(index)","data_type":"Short Text"}"#)
            guard status == 201 else { throw TestFailure("field f\(index) was not created: \(status)") }
        }
        return Cluster(
            database: database, network: networkID, orgToken: try #require(org["token"]?.stringValue),
            telephonyToken: try #require(telephony["token"]?.stringValue), nodes: nodes)
    }

    /// On a new PostgreSQL database the schema is made once the pool runs: the demo's seeding and
    /// maintenance wait for it instead of meeting missing tables.
    ///
    /// At 300 calls a second the simulator's warm start is well over 100,000 events, more than it sends
    /// before the 30-s drain deadline: SIGTERM during it must stop the traffic between two batches
    /// (a simulator that sent them all held the drain to its deadline; under CI's load at 20 calls a
    /// second it held it past the watchdog, which ended the server with status 1).
    @Test func theDemoStartsOnAnEmptyPostgresDatabaseAndStopsCleanly() async throws {
        let database = try await StoreBackend.freshPostgresDatabase()
        let node = try ServerProcess(
            database: database, arguments: ["--demo", "--demo-rate", "300", "--shutdown-timeout", "30s"])
        defer { node.kill(SIGKILL) }
        try await node.waitUntilUp()
        // The warm start is computed before the first batch: 12 s in a debug build on an idle machine
        // here, 32 s with the cores busy.
        var applied = 0.0
        let deadline = ContinuousClock.now + .seconds(150)
        while applied == 0, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(100))
            let text = try await HTTP.text("\(node.baseURL)/metrics")
            applied = MetricsTests.value(text, #"cip_telephony_events_total{result="applied"}"#) ?? 0
        }
        #expect(applied > 0)
        node.kill(SIGTERM)
        // Well before the drain deadline: the traffic stopped by itself, nothing was cancelled.
        #expect(try await ConnectionHardeningTests.waitForExit(node, upTo: .seconds(20)) == 0)
    }

    @Test func aWriteThroughEitherNodeIsVisibleThroughTheOtherAtOnce() async throws {
        let cluster = try await Self.startCluster()
        defer { cluster.stop() }
        #expect(try await cluster.bridge("VIA-A", via: 0) == "applied")
        #expect(try await cluster.find("&transaction_id=VIA-A", via: 1).count == 1)
        #expect(
            try await cluster.update("VIA-A", via: 1, #"{"call_in_progress":{"external_unique_id":"set-on-b"}}"#) == 200
        )
        #expect(try await cluster.find("&external_unique_id=set-on-b", via: 0).count == 1)
        // The same event through the other node is a duplicate: idempotency holds across nodes.
        #expect(try await cluster.bridge("VIA-A", via: 1) == "duplicate")
    }

    /// SPEC 8: a change committed through one node reaches the streams of the other, and both nodes'
    /// streams give it the same sequence number.
    @Test func aChangeThroughEitherNodeReachesTheStreamsOfBoth() async throws {
        let cluster = try await Self.startCluster()
        defer { cluster.stop() }
        let streams = cluster.nodes.map { node in
            TestStream(
                StreamTarget(
                    baseURL: node.baseURL, token: cluster.orgToken, organizationType: "network",
                    organizationID: cluster.network))
        }
        defer { for stream in streams { stream.close() } }
        for stream in streams { _ = try await stream.expect("snapshot") }
        for (index, node) in [0, 1, 0].enumerated() {
            #expect(try await cluster.bridge("N\(index)", via: node) == "applied")
            var seen: [JSONValue] = []
            for stream in streams { seen.append(try await stream.expect("call_bridged", within: .seconds(5))) }
            #expect(seen.allSatisfy { $0["call"]?["transaction_id"]?.stringValue == "N\(index)" })
            #expect(seen[0]["sequence"] != nil && seen[0]["sequence"] == seen[1]["sequence"])
        }
    }

    @Test func twentyClaimsOfOneExternalIDAcrossBothNodesHaveOneWinner() async throws {
        let cluster = try await Self.startCluster()
        defer { cluster.stop() }
        for index in 0..<20 { #expect(try await cluster.bridge("C\(index)", via: index % 2) == "applied") }
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<20 {
                group.addTask {
                    try await cluster.update(
                        "C\(index)", via: index % 2, #"{"call_in_progress":{"external_unique_id":"only-one"}}"#)
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.filter { $0 == 200 }.count == 1)
        #expect(statuses.filter { $0 == 409 }.count == 19)
        #expect(try await cluster.find("&external_unique_id=only-one", via: 1).count == 1)
    }

    @Test func concurrentCustomDataUpdatesThroughBothNodesAllLand() async throws {
        let cluster = try await Self.startCluster()
        defer { cluster.stop() }
        #expect(try await cluster.bridge("SHARED", via: 0) == "applied")
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<40 {
                group.addTask {
                    try await cluster.update(
                        "SHARED", via: index % 2,
                        #"{"call_in_progress":{"custom_data":[{"name":"f\#(index)","value":"v\#(index)"}]}}"#)
                }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(statuses.allSatisfy { $0 == 200 })
        let data = try #require(
            try await cluster.find("&transaction_id=SHARED", via: 1).first?["custom_data"]?.objectValue)
        #expect(data.count == 40)
        #expect((0..<40).allSatisfy { data["f\($0)"]?["value"]?.stringValue == "v\($0)" })
    }
}

/// A node rides out a PostgreSQL outage without a restart (issue 4). It stops and starts a
/// cluster of its own, so it never disturbs the other tests' server.
@Suite(
    "PostgreSQL outage",
    .enabled(
        if: ProcessInfo.processInfo.environment["CIP_TEST_OUTAGE_POSTGRES_URL"] != nil,
        "needs CIP_TEST_OUTAGE_POSTGRES_URL, CIP_TEST_OUTAGE_STOP and CIP_TEST_OUTAGE_START"))
struct PostgresOutageTests {
    static func shell(_ variable: String) throws {
        guard let command = ProcessInfo.processInfo.environment[variable] else {
            throw TestFailure("\(variable) is not set")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestFailure("\(variable) failed") }
    }

    @Test func nodeAnswers503WhilePostgresIsDownAndRecoversByItself() async throws {
        let database = try #require(ProcessInfo.processInfo.environment["CIP_TEST_OUTAGE_POSTGRES_URL"])
        let name = "Outage \(UUID().uuidString)"
        let network = try #require(
            try CIPBinary.admin(["network", "create", "--name", name], database: database)["id"]?.positiveID)
        let org = try #require(
            try CIPBinary.admin(
                ["token", "create", "--organization-type", "network", "--id", String(network)], database: database)[
                    "token"]?.stringValue)
        let telephony = try #require(
            try CIPBinary.admin(["token", "create", "--telephony"], database: database)["token"]?.stringValue)
        let node = try ServerProcess(database: database)
        defer { node.kill(SIGKILL) }
        try await node.waitUntilUp()
        let api = "\(node.baseURL)/api/2022-08-01"
        let list = "\(api)/calls_in_progress/current_calls.json?id=\(network)&organization_type=network"
        // Transaction ids are global, and this cluster outlives the run: make them unique to it.
        let run = String(UUID().uuidString.prefix(8))
        func bridge(_ id: String) async throws -> (Int, JSONValue) {
            try await HTTP.send(
                "POST", "\(api)/telephony/call_events.json", token: telephony,
                body:
                    #"{"event":"call_bridged","transaction_id":"\#(id)-\#(run)","network_id":\#(network),"occurred_at":"2022-12-10T13:00:00Z","calling_phone_number":"530-999-9999","destination_phone_number":"855-559-5599"}"#
            )
        }
        #expect(try await bridge("BEFORE").1["results"]?[0]?["status"]?.stringValue == "applied")
        #expect(try await HTTP.send("GET", list, token: org).0 == 200)

        try Self.shell("CIP_TEST_OUTAGE_STOP")
        // The token is cached for half a second; past that, the request needs the database.
        try await Task.sleep(for: .seconds(1))
        let (status, body, headers) = try await HTTP.exchange("GET", list, token: org)
        #expect(status == 503)
        #expect(body == .object(["error": .string("ServiceUnavailable")]))
        #expect(headers["retry-after"] != nil)
        #expect(try await bridge("DURING").0 == 503)
        #expect(try await HTTP.send("GET", "\(node.baseURL)/ready").0 == 503)
        // Once the node knows the database is down it answers at once (issue 9, item 9), not after
        // the 5 s lease deadline, which every request waited before. "At once" is measured by the
        // crash campaign (RELIABILITY.md); here the bound only tells the two apart: without the
        // breaker every answer takes the deadline, so the median is judged, and one answer held up
        // by a machine loaded with the rest of the suite (9 s once in CI) does not fail the test.
        var waits: [Duration] = []
        for _ in 0..<5 {
            let started = ContinuousClock.now
            #expect(try await HTTP.send("GET", list, token: org).0 == 503)
            waits.append(ContinuousClock.now - started)
        }
        #expect(waits.sorted()[2] < .seconds(4), "waits: \(waits)")
        #expect(try await HTTP.send("GET", "\(node.baseURL)/health").0 == 200)

        try Self.shell("CIP_TEST_OUTAGE_START")
        var recovered = false
        for _ in 0..<60 where !recovered {
            recovered = (try? await HTTP.send("GET", "\(node.baseURL)/ready").0) == 200
            if !recovered { try await Task.sleep(for: .milliseconds(500)) }
        }
        #expect(recovered)
        #expect(try await bridge("AFTER").1["results"]?[0]?["status"]?.stringValue == "applied")
        let calls = try await HTTP.send("GET", list, token: org).1["current_calls"]?.arrayValue ?? []
        #expect(Set(calls.compactMap { $0["transaction_id"]?.stringValue }) == ["BEFORE-\(run)", "AFTER-\(run)"])
    }
}
