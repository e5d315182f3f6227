import CIPDomain
import CIPTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A statement that never finishes must not hold its request, nor the server's shutdown, forever
/// (issue 9, item 10). A lock held by another session makes the node's statements wait as a query
/// on a dead connection would: deterministically, and on a real PostgreSQL.
@Suite(
    "PostgreSQL statements that never finish",
    .enabled(if: StoreBackend.postgresURL != nil, "needs CIP_TEST_POSTGRES_URL"))
struct PostgresStallTests {
    @Test func aHungStatementIsAnswered503AndShutdownStaysBounded() async throws {
        let database = try await StoreBackend.freshPostgresDatabase()
        _ = try CIPBinary.admin(["network", "create", "--name", "N"], database: database)
        let telephony = try #require(
            try CIPBinary.admin(["token", "create", "--telephony"], database: database)["token"]?.stringValue)
        let node = try ServerProcess(
            database: database, arguments: ["--statement-timeout", "2s", "--shutdown-timeout", "2s"])
        defer { node.kill(SIGKILL) }
        try await node.waitUntilUp()

        // Another session takes the calls table and keeps it.
        let locker = Process()
        locker.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        locker.arguments = [
            database, "-q", "-c", "BEGIN; LOCK TABLE calls IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60);",
        ]
        locker.standardOutput = FileHandle.nullDevice
        locker.standardError = FileHandle.nullDevice
        try locker.run()
        defer { locker.terminate() }
        // Wait until the lock is held, not for a guessed while: on a loaded machine psql took longer
        // than half a second to connect, and the event below went through before the lock.
        let held =
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
            + " WHERE c.relname = 'calls' AND l.mode = 'AccessExclusiveLock' AND l.granted"
        var locked = false
        for _ in 0..<200 where !locked {
            locked = try Self.psql(database, held) == "1"
            if !locked { try await Task.sleep(for: .milliseconds(100)) }
        }
        try #require(locked, "the other session never got the lock")

        let event =
            #"{"event":"call_bridged","transaction_id":"STUCK","network_id":1,"occurred_at":"2022-12-10T13:00:00Z","calling_phone_number":"530-999-9999","destination_phone_number":"855-559-5599"}"#
        let (status, body) = try await HTTP.send(
            "POST", "\(node.baseURL)/api/2022-08-01/telephony/call_events.json", token: telephony, body: event)
        #expect(status == 503)
        #expect(body == .object(["error": .string("ServiceUnavailable")]))

        // A request stuck again when SIGTERM comes does not keep the server from exiting.
        let stuck = Task {
            try? await HTTP.send(
                "POST", "\(node.baseURL)/api/2022-08-01/telephony/call_events.json", token: telephony, body: event)
        }
        try await Task.sleep(for: .milliseconds(300))
        node.kill(SIGTERM)
        let exited = try await ConnectionHardeningTests.waitForExit(node, upTo: .seconds(20))
        #expect(exited != nil)
        _ = await stuck.value
    }

    /// The one-line answer of `sql`, run by psql in a session of its own.
    static func psql(_ database: String, _ sql: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        process.arguments = [database, "-tAc", sql]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
