import CIPDomain
import CIPStreamClient
import CIPTestSupport
import Foundation
import Synchronization
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
        // grows afterwards is what the slow client costs.
        let pid = server.process.processIdentifier
        try await flood(30_000) {}

        let slow = try RawConnection(port: server.port)
        slow.send(
            "GET /api/2022-08-01/calls_in_progress/stream?\(setup.streamQuery) HTTP/1.1\r\nHost: x\r\nAuthorization: \(setup.readToken)\r\n\r\n"
        )
        #expect(slow.read(until: "event: snapshot", timeout: .seconds(10)).text.contains("200 OK"))
        let start = Self.residentBytes(pid)
        var peak = start
        try await flood(100_000) { peak = max(peak, Self.residentBytes(pid)) }
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
        #expect(MetricsTests.value(try await HTTP.text("\(server.baseURL)/metrics"), "cip_streams_open") == 0)
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
            let event = try await resumed.next(within: .seconds(30))
            guard event.id == String(expected) else {
                Issue.record("after \(expected - 1) came \(event.event) \(event.id ?? "without id")")
                break
            }
            expected += 1
        }
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

    /// `cip watch` prints the snapshot as a count and one line per change, and after the server is
    /// killed and restarted it resumes by itself after the last change it printed.
    @Test func cipWatchPrintsEachChangeAndResumesAfterARestart() async throws {
        let setup = try await Self.setUp(.sqlite)
        var server = try ServerProcess(database: setup.database)
        defer { server.kill(SIGKILL) }
        try await server.waitUntilUp()
        let watch = Process()
        watch.executableURL = CIPBinary.url
        watch.arguments = [
            "watch", "--url", server.baseURL, "--organization-type", "network", "--id", String(setup.network),
        ]
        watch.environment = ["CIP_TOKEN": setup.readToken]
        let output = Pipe()
        watch.standardOutput = output
        try watch.run()
        defer { if watch.isRunning { watch.terminate() } }
        let printed = Printed()
        let handle = output.fileHandleForReading
        Thread.detachNewThread {
            while true {
                let data = handle.availableData
                if data.isEmpty { return }
                printed.text.withLock { $0 += String(decoding: data, as: UTF8.self) }
            }
        }
        func waitFor(_ text: String) async throws {
            let deadline = ContinuousClock.now + .seconds(15)
            while !printed.text.withLock({ $0.contains(text) }) {
                guard ContinuousClock.now < deadline else {
                    throw TestFailure(
                        "cip watch did not print \"\(text)\"; it printed:\n\(printed.text.withLock { $0 })")
                }
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        func bridge(_ id: String) async throws {
            let event =
                #"{"event":"call_bridged","transaction_id":"\#(id)","network_id":\#(setup.network),"occurred_at":"2022-12-10T13:00:00Z","calling_phone_number":"530-999-9999","destination_phone_number":"855-559-5599"}"#
            _ = try await HTTP.send(
                "POST", "\(server.baseURL)/api/2022-08-01/telephony/call_events.json", token: setup.telephonyToken,
                body: event)
        }
        try await waitFor("snapshot at 0: 0 calls in progress")
        try await bridge("W1")
        try await waitFor("1 call_bridged W1")
        server.kill(SIGKILL)
        _ = await server.waitForExit()
        server = try ServerProcess(database: setup.database, port: server.port)
        try await server.waitUntilUp()
        try await waitFor("resuming after 1")
        try await bridge("W2")
        try await waitFor("2 call_bridged W2")
        #expect(printed.text.withLock { $0.components(separatedBy: "snapshot at").count } == 2)
        watch.interrupt()
        while watch.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        #expect(watch.terminationStatus == 0)
    }

    /// `cip watch | head`: once the reader of its output has gone, the next change ends it with
    /// status 0 (Foundation's `FileHandle.write` would trap on the broken pipe).
    @Test func cipWatchEndsQuietlyWhenItsReaderGoes() async throws {
        let setup = try await Self.setUp(.sqlite)
        let server = try ServerProcess(database: setup.database)
        defer { server.kill(SIGKILL) }
        try await server.waitUntilUp()
        let watch = Process()
        watch.executableURL = CIPBinary.url
        watch.arguments = [
            "watch", "--url", server.baseURL, "--organization-type", "network", "--id", String(setup.network),
        ]
        watch.environment = ["CIP_TOKEN": setup.readToken]
        let output = Pipe()
        watch.standardOutput = output
        try watch.run()
        defer { if watch.isRunning { watch.terminate() } }
        var first = Data()
        while !String(decoding: first, as: UTF8.self).contains("snapshot at") {
            let data = output.fileHandleForReading.availableData
            if data.isEmpty { break }
            first += data
        }
        try output.fileHandleForReading.close()
        let event =
            #"{"event":"call_bridged","transaction_id":"H1","network_id":\#(setup.network),"occurred_at":"2022-12-10T13:00:00Z","calling_phone_number":"530-999-9999","destination_phone_number":"855-559-5599"}"#
        _ = try await HTTP.send(
            "POST", "\(server.baseURL)/api/2022-08-01/telephony/call_events.json", token: setup.telephonyToken,
            body: event)
        let deadline = ContinuousClock.now + .seconds(15)
        while watch.isRunning && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(!watch.isRunning)
        #expect(watch.terminationReason == .exit && watch.terminationStatus == 0)
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

/// What a child process printed, read on a thread of its own.
final class Printed: Sendable {
    let text = Mutex("")
}

/// SPEC 8's reference client: a mirror kept from the stream over many short connections.
final class ReferenceClient: Sendable {
    let targets: [StreamTarget]
    private let state = Mutex<State>(State())

    struct State {
        var mirror = CallsMirror()
        var stopped = false
        var report = Report()
    }

    struct Report {
        var applied = 0
        var connections = 0
        var snapshots = 0
    }

    init(targets: [StreamTarget]) {
        self.targets = targets
    }

    var report: Report { state.withLock { $0.report } }

    func stop() {
        state.withLock { $0.stopped = true }
    }

    /// Connects, reads for a random moment, drops the connection, and again, until stopped; each time
    /// to the next target, resuming after the last change applied. Throws when the stream breaks its
    /// guarantee.
    func follow() async throws {
        var next = 0
        while !state.withLock({ $0.stopped }) {
            let target = targets[next % targets.count]
            next += 1
            try await read(target, for: .milliseconds(Int.random(in: 200...3000)))
        }
    }

    /// Reads from the first target until the mirror holds exactly `current` (keyed by transaction id).
    func converge(to current: [JSONValue]) async throws {
        let expected = Dictionary(
            uniqueKeysWithValues: current.map { ($0.objectValue?["transaction_id"]?.stringValue ?? "", $0) })
        let deadline = ContinuousClock.now + .seconds(30)
        while state.withLock({ $0.mirror.calls }) != expected {
            guard ContinuousClock.now < deadline else {
                let held = state.withLock { $0.mirror.calls }
                let onlyHeld = Array(Set(held.keys).subtracting(expected.keys).sorted().prefix(5))
                let onlyListed = Array(Set(expected.keys).subtracting(held.keys).sorted().prefix(5))
                let differing = expected.keys.filter { held[$0] != nil && held[$0] != expected[$0] }.count
                Issue.record(
                    "the mirror holds \(held.count) calls, current_calls \(expected.count); only held: \(onlyHeld), only listed: \(onlyListed), \(differing) differ"
                )
                return
            }
            try await read(targets[0], for: .seconds(1))
        }
    }

    private func read(_ target: StreamTarget, for window: Duration) async throws {
        let resumeAfter = state.withLock { $0.mirror.awaitingSnapshot ? nil : $0.mirror.lastSequence }
        let stream = TestStream(target, lastEventID: resumeAfter)
        defer { stream.close() }
        state.withLock { $0.report.connections += 1 }
        let until = ContinuousClock.now + window
        while ContinuousClock.now < until {
            // A server that is down or restarting: the window passes without events.
            guard let event = try? await stream.next(within: until - ContinuousClock.now) else { break }
            try state.withLock { state in
                let applied = try state.mirror.apply(event)
                if case .snapshot = applied { state.report.snapshots += 1 }
                if case .change = applied { state.report.applied += 1 }
            }
        }
    }
}
