import CIPDomain
import CIPStreamClient
import CIPTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// SPEC 8 through the real `cip serve` process: slow clients, shutdown.
@Suite("Change stream through the cip process")
struct ChangeStreamProcessTests {
    /// A database with one network (and the fields `cip simulate` writes), a read token and a
    /// telephony token.
    struct Setup {
        let database: String
        let network: Int64
        let readToken: String
        let telephonyToken: String

        var streamQuery: String { "id=\(network)&organization_type=network" }
    }

    static func setUp(_ backend: StoreBackend) async throws -> Setup {
        let database =
            backend == .sqlite
            ? try TemporaryFolder.make().appendingPathComponent("cip.sqlite").path
            : try await StoreBackend.freshPostgresDatabase()
        let network = try #require(
            try CIPBinary.admin(["network", "create", "--name", "Streams"], database: database)["id"]?.positiveID)
        for (name, type) in [
            ("utm_source", "short-text"), ("utm_campaign", "short-text"), ("line_label", "short-text"),
            ("Qualified", "signal"), ("Notes", "long-text"),
        ] {
            _ = try CIPBinary.admin(
                ["field", "create", "--network", String(network), "--name", name, "--type", type], database: database)
        }
        _ = try CIPBinary.admin(
            [
                "field", "create", "--network", String(network), "--name", "ivr_selection", "--type", "category",
                "--allowed-value", "sales", "--allowed-value", "support", "--allowed-value", "billing",
            ], database: database)
        let read = try CIPBinary.admin(
            ["token", "create", "--organization-type", "network", "--id", String(network), "--scope", "read"],
            database: database)
        let telephony = try CIPBinary.admin(["token", "create", "--telephony"], database: database)
        return Setup(
            database: database, network: network, readToken: try #require(read["token"]?.stringValue),
            telephonyToken: try #require(telephony["token"]?.stringValue))
    }

    /// The resident memory of a process, in bytes.
    static func residentBytes(_ pid: Int32) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kilobytes * 1024
    }

    /// A client that asks for a stream and then reads nothing: its queue fills, it is sent
    /// `overflow` and disconnected, the server's memory stays bounded while 100,000 changes of about
    /// 1.3 KB each flow past it, and the client resumes from its last id without losing a change.
    @Test(arguments: StoreBackend.available) func aClientThatNeverReadsIsOverflowedAndResumesLosslessly(
        _ backend: StoreBackend
    ) async throws {
        let setup = try await Self.setUp(backend)
        let server = try ServerProcess(database: setup.database)
        defer { server.kill(SIGKILL) }
        try await server.waitUntilUp()
        let feed = "\(server.baseURL)/api/2022-08-01/telephony/call_events.json"
        func post(_ events: [String]) async throws {
            let body = #"{"events":[\#(events.joined(separator: ","))]}"#
            try #require(try await HTTP.send("POST", feed, token: setup.telephonyToken, body: body).0 == 200)
        }
        // 100 calls, each carrying a 1 KB note, so that every change's event is about 1.3 KB while the
        // events that make them stay small.
        let calls = 100
        let note = String(repeating: "n", count: 1000)
        try await post(
            (0..<calls).map {
                #"{"event":"call_bridged","transaction_id":"O\#($0)","network_id":\#(setup.network),"occurred_at":"2022-12-10T13:00:00Z","calling_phone_number":"530-999-\#(String(format: "%04d", $0))","destination_phone_number":"855-559-5599","custom_data":[{"name":"Notes","value":"\#(note)"}]}"#
            })
        // Each step changes every call's status: one change per call.
        var step = 0
        func flood(_ changes: Int, sample: () -> Void) async throws {
            for _ in 0..<(changes / (calls * 10)) {
                var events: [String] = []
                for _ in 0..<10 {
                    step += 1
                    let time = String(format: "2022-12-10T%02d:%02d:%02dZ", 14 + step / 3600, step / 60 % 60, step % 60)
                    let status = step % 2 == 1 ? "on_hold" : "bridged"
                    for call in 0..<calls {
                        events.append(
                            #"{"event":"call_updated","transaction_id":"O\#(call)","network_id":\#(setup.network),"occurred_at":"\#(time)","call_status":"\#(status)"}"#
                        )
                    }
                }
                try await post(events)
                sample()
            }
        }
        // Warm up first (caches, the follower's recent changes, the allocator's arenas), so that what
        // grows afterwards is what the slow client costs. The follower keeps recent changes only while
        // some stream is open: a client of another network, which reads everything and is sent
        // nothing of these calls, keeps one open throughout.
        let other = try #require(
            try CIPBinary.admin(["network", "create", "--name", "Bystander"], database: setup.database)["id"]?
                .positiveID)
        let otherToken = try #require(
            try CIPBinary.admin(
                ["token", "create", "--organization-type", "network", "--id", String(other), "--scope", "read"],
                database: setup.database)["token"]?.stringValue)
        let bystander = TestStream(
            StreamTarget(
                baseURL: server.baseURL, token: otherToken, organizationType: "network", organizationID: other))
        defer { bystander.close() }
        _ = try await bystander.expect("snapshot")
        let pid = server.process.processIdentifier
        let began = ContinuousClock.now
        try await flood(30_000) {}
        let warmedUp = ContinuousClock.now

        let slow = try RawConnection(port: server.port)
        slow.send(
            "GET /api/2022-08-01/calls_in_progress/stream?\(setup.streamQuery) HTTP/1.1\r\nHost: x\r\nAuthorization: \(setup.readToken)\r\n\r\n"
        )
        #expect(slow.read(until: "event: snapshot", timeout: .seconds(10)).text.contains("200 OK"))
        let start = Self.residentBytes(pid)
        var peak = start
        try await flood(100_000) { peak = max(peak, Self.residentBytes(pid)) }
        let flooded = ContinuousClock.now
        let latest = Int64(calls + step * calls)

        // The server ends the stream; the client finally reads what reached it.
        var overflows = 0.0
        for _ in 0..<200 where overflows == 0 {
            overflows =
                MetricsTests.value(try await HTTP.text("\(server.baseURL)/metrics"), "cip_stream_overflows_total") ?? 0
            peak = max(peak, Self.residentBytes(pid))
            if overflows == 0 { try await Task.sleep(for: .milliseconds(200)) }
        }
        #expect(overflows == 1)
        let received = slow.read(timeout: .seconds(20))
        #expect(received.closed)
        var parser = ServerSentEventParser()
        let events = parser.feed(Array(received.text.utf8))
        let lastID = try #require(events.last(where: { $0.id != nil })?.id.flatMap { Int64($0) })
        #expect(lastID < latest)
        // The bystander's stream is the one still open.
        #expect(MetricsTests.value(try await HTTP.text("\(server.baseURL)/metrics"), "cip_streams_open") == 1)
        print(
            "overflow (\(backend)): the client took \(events.count) events, up to \(lastID) of \(latest); "
                + "server RSS \(start >> 20) MiB before the 100,000 changes, \(peak >> 20) MiB at most")
        // Held for the client, 100,000 changes of about 1.3 KB would add over 120 MiB.
        #expect(peak - start < 64 << 20, "RSS grew by \((peak - start) >> 20) MiB")

        // Resuming from the last id it saw, the client gets every later change, in order, once.
        let resumed = TestStream(
            StreamTarget(
                baseURL: server.baseURL, token: setup.readToken, organizationType: "network",
                organizationID: setup.network), lastEventID: lastID)
        defer { resumed.close() }
        var expected = lastID + 1
        while expected <= latest {
            guard let event = try? await resumed.next(within: .seconds(30)) else {
                let metrics = try await HTTP.text("\(server.baseURL)/metrics")
                Issue.record(
                    """
                    no event for 30 s after \(expected - 1) of \(latest) (connection: \(resumed.outcome ?? "open"); \
                    overflows: \(MetricsTests.value(metrics, "cip_stream_overflows_total") ?? -1), \
                    streams open: \(MetricsTests.value(metrics, "cip_streams_open") ?? -1))
                    """)
                break
            }
            guard event.id == String(expected) else {
                Issue.record("after \(expected - 1) came \(event.event) \(event.id ?? "without id")")
                break
            }
            expected += 1
        }
        print(
            "overflow (\(backend)): warm-up flood \(warmedUp - began), 100,000-change flood \(flooded - warmedUp), "
                + "from then to the end \(ContinuousClock.now - flooded)")
    }

    /// SIGTERM ends open streams cleanly (the client sees the end of the response, not an error)
    /// and the server exits 0 at once, without waiting for its shutdown timeout.
    @Test func sigtermEndsOpenStreamsCleanly() async throws {
        let setup = try await Self.setUp(.sqlite)
        let server = try ServerProcess(database: setup.database)
        defer { server.kill(SIGKILL) }
        try await server.waitUntilUp()
        let target = StreamTarget(
            baseURL: server.baseURL, token: setup.readToken, organizationType: "network",
            organizationID: setup.network)
        let streams = [TestStream(target), TestStream(target)]
        defer { for stream in streams { stream.close() } }
        for stream in streams { _ = try await stream.expect("snapshot") }
        let signalled = ContinuousClock.now
        server.kill(SIGTERM)
        for stream in streams { #expect(try await stream.ended(within: .seconds(5)) == "ended") }
        #expect(await server.waitForExit() == 0)
        let took = ContinuousClock.now - signalled
        #expect(took < .seconds(5), "the server took \(took) to stop")
    }

    /// The reference client of SPEC 8's guarantee: it applies the snapshot and every event, drops its
    /// connection at random moments and reconnects with its last id (on PostgreSQL to the other node
    /// each time), while `cip simulate` drives traffic for 65 s and the server is `kill -9`ed and
    /// restarted twice. It must end holding exactly what `current_calls` lists; the mirror refuses
    /// any change missed (an update of a call it does not hold), repeated or out of order.
    @Test(arguments: StoreBackend.available) func aReferenceClientEndsHoldingExactlyTheCallsInProgress(
        _ backend: StoreBackend
    ) async throws {
        let setup = try await Self.setUp(backend)
        let nodeCount = backend == .sqlite ? 1 : 2
        var nodes = try (0..<nodeCount).map { _ in try ServerProcess(database: setup.database) }
        defer { for node in nodes { node.kill(SIGKILL) } }
        for node in nodes { try await node.waitUntilUp() }
        let urls = nodes.map(\.baseURL)
        // Traffic through every node.
        let simulators = try urls.map { url in
            let simulator = Process()
            simulator.executableURL = CIPBinary.url
            simulator.arguments = [
                "simulate", "--url", url, "--token", setup.telephonyToken, "--network", String(setup.network),
                "--rate", String(8 / nodeCount), "--median-call-length", "20s", "--duration", "65s",
            ]
            simulator.standardOutput = FileHandle.nullDevice
            simulator.standardError = FileHandle.nullDevice
            try simulator.run()
            return simulator
        }
        defer { for simulator in simulators where simulator.isRunning { simulator.terminate() } }

        let client = ReferenceClient(
            targets: urls.map {
                StreamTarget(
                    baseURL: $0, token: setup.readToken, organizationType: "network", organizationID: setup.network)
            })
        let following = Task { try await client.follow() }
        // Two crashes: on PostgreSQL one of each node.
        for crash in 0..<2 {
            try await Task.sleep(for: .seconds(20))
            let index = crash % nodeCount
            nodes[index].kill(SIGKILL)
            _ = await nodes[index].waitForExit()
            nodes[index] = try ServerProcess(database: setup.database, port: nodes[index].port)
            try await nodes[index].waitUntilUp()
        }
        for simulator in simulators {
            while simulator.isRunning { try await Task.sleep(for: .milliseconds(200)) }
        }
        client.stop()
        try await following.value

        // Quiet now: the client resumes once more and must converge on current_calls exactly.
        let listURL =
            "\(urls[0])/api/2022-08-01/calls_in_progress/current_calls.json?\(setup.streamQuery)"
        let (status, listed) = try await HTTP.send("GET", listURL, token: setup.readToken)
        #expect(status == 200)
        let current = listed["current_calls"]?.arrayValue ?? []
        try await client.converge(to: current)
        let report = client.report
        print(
            "reference client (\(backend)): \(report.applied) events applied over \(report.connections) "
                + "connections, \(report.snapshots) snapshot(s), \(current.count) calls in progress at the end")
        #expect(current.count > 50)
        #expect(report.applied > 1000)
        #expect(report.connections > 20)
    }
}
