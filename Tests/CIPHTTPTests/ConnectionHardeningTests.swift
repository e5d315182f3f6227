import CIPDomain
import CIPTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What a client that stalls, sends broken framing or never closes can do to a real `cip serve`
/// (issue 9, items 1, 2 and 7): each is bounded, answered as SPEC 2.5 says, and logged.
@Suite("Connections under hostile clients", .serialized)
struct ConnectionHardeningTests {
    static let feed = "/api/2022-08-01/telephony/call_events.json"

    /// A server with short timeouts, and a telephony token for it.
    static func withServer(
        _ arguments: [String] = ["--header-timeout", "1s", "--body-timeout", "2s", "--idle-timeout", "1s"],
        _ test: (ServerProcess, String) async throws -> Void
    ) async throws {
        let folder = try TemporaryFolder.make()
        let database = folder.appendingPathComponent("cip.sqlite").path
        _ = try CIPBinary.run(["admin", "network", "create", "--name", "N", "--database", database])
        let token =
            try CIPBinary.admin(["token", "create", "--telephony"], database: database)["token"]?.stringValue ?? ""
        let server = try ServerProcess(database: database, arguments: arguments)
        defer { server.kill(SIGKILL) }
        try await server.waitUntilUp()
        try await test(server, token)
    }

    @Test func aHalfSentHeadIsAnswered408AndClosed() async throws {
        try await Self.withServer { server, _ in
            let connection = try RawConnection(port: server.port)
            connection.send("GET /health HTTP/1.1\r\nHost: x\r\nX: ")
            let received = connection.read(timeout: .seconds(10))
            #expect(received.text.hasPrefix("HTTP/1.1 408"))
            #expect(received.text.hasSuffix(#"{"error":"RequestTimeout"}"#))
            #expect(received.closed)
        }
    }

    @Test func aStalledBodyIsAnswered408AndClosed() async throws {
        try await Self.withServer { server, token in
            let connection = try RawConnection(port: server.port)
            connection.send(
                "POST \(Self.feed) HTTP/1.1\r\nHost: x\r\nAuthorization: \(token)\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"events\":"
            )
            let received = connection.read(timeout: .seconds(10))
            #expect(received.text.hasPrefix("HTTP/1.1 408"))
            #expect(received.closed)
        }
    }

    @Test func idleKeepAliveConnectionsAndSilentOnesAreClosed() async throws {
        try await Self.withServer { server, _ in
            let keptAlive = try RawConnection(port: server.port)
            keptAlive.send("GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            let answered = keptAlive.read(until: #"{"status":"ok"}"#, timeout: .seconds(5))
            #expect(answered.text.hasPrefix("HTTP/1.1 200"))
            #expect(!answered.closed)
            #expect(keptAlive.read(timeout: .seconds(10)).closed)
            let silent = try RawConnection(port: server.port)
            #expect(silent.read(timeout: .seconds(10)).closed)
        }
    }

    @Test func anEarlyAnswerToAClientStillSendingLeavesNoSocketBehind() async throws {
        try await Self.withServer { server, token in
            for authorization in ["", "Authorization: \(token)\r\n"] {
                let connection = try RawConnection(port: server.port)
                connection.send(
                    "POST \(Self.feed) HTTP/1.1\r\nHost: x\r\n\(authorization)Connection: close\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\n\r\n"
                )
                connection.send([UInt8](repeating: 0x20, count: 200_000))
                let received = connection.read(timeout: .seconds(10))
                #expect(received.text.hasPrefix(authorization.isEmpty ? "HTTP/1.1 401" : "HTTP/1.1 413"))
                #expect(received.closed)
            }
            // The server must not hold these sockets waiting for the client (FIN-WAIT-2 until exit):
            // after its linger it closes them, whatever the client does.
            try await Task.sleep(for: .seconds(3))
            #expect(try Self.socketsInFinWait2(port: server.port, heldBy: server.process.processIdentifier) == 0)
        }
    }

    @Test func malformedFramingIsAnswered400WithSPECsBody() async throws {
        try await Self.withServer { server, token in
            let requests = [
                "Transfer-Encoding: xchunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                "Transfer-Encoding: identity\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
                "Transfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
            ]
            for framing in requests {
                let connection = try RawConnection(port: server.port)
                connection.send(
                    "POST \(Self.feed) HTTP/1.1\r\nHost: x\r\nAuthorization: \(token)\r\nContent-Type: application/json\r\n\(framing)"
                )
                let received = connection.read(timeout: .seconds(10))
                #expect(received.text.hasPrefix("HTTP/1.1 400"), "\(framing)")
                #expect(
                    Self.body(received.text)?["errors"]?["body"]?[0]?.stringValue?.hasPrefix(
                        "is not a valid HTTP/1.1 request") == true)
                #expect(received.closed)
            }
            let badHead = try RawConnection(port: server.port)
            badHead.send("GET /health HTTP/1.1\r\nHo st: x\r\n\r\n")
            let received = badHead.read(timeout: .seconds(10))
            #expect(received.text.hasPrefix("HTTP/1.1 400"))
            #expect(Self.body(received.text)?["errors"]?["body"] != nil)
        }
    }

    @Test func http10WithoutKeepAliveIsClosedAfterItsAnswer() async throws {
        try await Self.withServer(["--idle-timeout", "60s"]) { server, _ in
            let connection = try RawConnection(port: server.port)
            connection.send("GET /health HTTP/1.0\r\n\r\n")
            let received = connection.read(timeout: .seconds(5))
            #expect(received.text.contains(#"{"status":"ok"}"#))
            #expect(received.closed)
            let keptAlive = try RawConnection(port: server.port)
            keptAlive.send("GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
            let answered = keptAlive.read(until: #"{"status":"ok"}"#, timeout: .seconds(5))
            #expect(answered.text.lowercased().contains("connection: keep-alive"))
            #expect(!answered.closed)
        }
    }

    @Test func expectContinueIsAnsweredBeforeTheBodyIsSent() async throws {
        try await Self.withServer { server, token in
            let body =
                #"{"event":"call_ended","transaction_id":"T1","network_id":1,"occurred_at":"2022-12-10T14:00:00.000Z"}"#
            let connection = try RawConnection(port: server.port)
            connection.send(
                "POST \(Self.feed) HTTP/1.1\r\nHost: x\r\nAuthorization: \(token)\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
            )
            let interim = connection.read(until: "\r\n\r\n", timeout: .seconds(5))
            #expect(interim.text.hasPrefix("HTTP/1.1 100 Continue"))
            connection.send(body)
            let final = connection.read(until: "]}", timeout: .seconds(5))
            #expect(final.text.contains("HTTP/1.1 200"))
            #expect(final.text.contains(#""status":"applied""#))
            // A body over the limit is refused without being invited.
            let large = try RawConnection(port: server.port)
            large.send(
                "POST \(Self.feed) HTTP/1.1\r\nHost: x\r\nAuthorization: \(token)\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 5000000\r\n\r\n"
            )
            let refused = large.read(timeout: .seconds(5))
            #expect(refused.text.hasPrefix("HTTP/1.1 413"))
        }
    }

    @Test func sigtermEndsTheServerWhileAnUploadIsStalled() async throws {
        try await Self.withServer(["--shutdown-timeout", "2s"]) { server, token in
            let connection = try RawConnection(port: server.port)
            connection.send(
                "POST \(Self.feed) HTTP/1.1\r\nHost: x\r\nAuthorization: \(token)\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"
            )
            try await Task.sleep(for: .milliseconds(300))
            server.kill(SIGTERM)
            let exited = try await Self.waitForExit(server, upTo: .seconds(20))
            #expect(exited == 0)
        }
    }

    static func waitForExit(_ server: ServerProcess, upTo limit: Duration) async throws -> Int32? {
        let deadline = ContinuousClock.now + limit
        while server.process.isRunning {
            if ContinuousClock.now > deadline { return nil }
            try await Task.sleep(for: .milliseconds(50))
        }
        return server.process.terminationStatus
    }

    static func body(_ response: String) -> JSONValue? {
        guard let range = response.range(of: "\r\n\r\n") else { return nil }
        return JSONValue.parse(String(response[range.upperBound...]))
    }

    static func socketsInFinWait2(port: Int, heldBy pid: Int32) throws -> Int {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "ss -tanpH state fin-wait-2 '( sport = :\(port) )' | grep -c 'pid=\(pid),' || true"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Int(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }
}
