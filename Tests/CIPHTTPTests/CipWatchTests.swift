import CIPDomain
import CIPTestSupport
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `cip watch`, the terminal client of the change stream, through the real processes.
@Suite("cip watch")
struct CipWatchTests {
    /// `cip watch` on `server`'s network stream, its output in a pipe.
    static func startWatch(
        _ server: ServerProcess, _ setup: ChangeStreamProcessTests.Setup
    ) throws -> (Process, Pipe) {
        let watch = Process()
        watch.executableURL = CIPBinary.url
        watch.arguments = [
            "watch", "--url", server.baseURL, "--organization-type", "network", "--id", String(setup.network),
        ]
        watch.environment = ["CIP_TOKEN": setup.readToken]
        let output = Pipe()
        watch.standardOutput = output
        try watch.run()
        return (watch, output)
    }

    /// `cip watch` prints the snapshot as a count and one line per change, and after the server is
    /// killed and restarted it resumes by itself after the last change it printed.
    @Test func cipWatchPrintsEachChangeAndResumesAfterARestart() async throws {
        let setup = try await ChangeStreamProcessTests.setUp(.sqlite)
        var server = try ServerProcess(database: setup.database)
        defer { server.kill(SIGKILL) }
        try await server.waitUntilUp()
        let (watch, output) = try Self.startWatch(server, setup)
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
        let setup = try await ChangeStreamProcessTests.setUp(.sqlite)
        let server = try ServerProcess(database: setup.database)
        defer { server.kill(SIGKILL) }
        try await server.waitUntilUp()
        let (watch, output) = try Self.startWatch(server, setup)
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
}

/// What a child process printed, read on a thread of its own.
final class Printed: Sendable {
    let text = Mutex("")
}
