import CIPDomain
import CIPTestSupport
import Foundation

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
#if canImport(Glibc)
import Glibc
#endif

/// The built `cip` executable, beside the test bundle.
enum CIPBinary {
    static var url: URL {
        if let override = ProcessInfo.processInfo.environment["CIP_BINARY"] { return URL(fileURLWithPath: override) }
        var folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        while folder.path != "/" {
            let candidate = folder.appendingPathComponent("cip")
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isFolder), !isFolder.boolValue {
                return candidate
            }
            folder.deleteLastPathComponent()
        }
        return URL(fileURLWithPath: ".build/debug/cip")
    }

    /// Runs `cip` with `arguments` to completion: exit status, stdout and stderr.
    static func run(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (
            process.terminationStatus, String(decoding: outData, as: UTF8.self),
            String(decoding: errData, as: UTF8.self)
        )
    }

    /// Runs an admin command that must succeed and returns its one JSON line.
    static func admin(_ arguments: [String], database: String) throws -> JSONValue {
        let result = try run(["admin"] + arguments + ["--database", database])
        guard result.status == 0, let json = JSONValue.parse(result.out) else {
            throw TestFailure("cip admin \(arguments) failed: \(result.err)")
        }
        return json
    }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A `cip serve` child process on a free loopback port.
final class ServerProcess: @unchecked Sendable {
    let process = Process()
    let port: Int
    var baseURL: String { "http://127.0.0.1:\(port)" }

    /// Starts `cip serve` on `port`, or on a free one: a restarted server takes its predecessor's.
    init(database: String, arguments: [String] = [], port: Int? = nil) throws {
        self.port = try port ?? Self.freePort()
        process.executableURL = CIPBinary.url
        process.arguments =
            ["serve", "--port", String(self.port), "--database", database, "--log-level", "warning"] + arguments
        process.standardOutput = FileHandle.nullDevice
        try process.run()
    }

    /// Waits until `/health` answers.
    func waitUntilUp() async throws {
        for _ in 0..<200 {
            if let (status, _) = try? await HTTP.send("GET", "\(baseURL)/health"), status == 200 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("cip serve did not come up on port \(port)")
    }

    func kill(_ signal: Int32) {
        Glibc.kill(process.processIdentifier, signal)
    }

    /// Waits for the process to exit and returns its status.
    func waitForExit() async -> Int32 {
        while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        return process.terminationStatus
    }

    private static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard bound else { throw TestFailure("no free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// A minimal HTTP client over URLSession for tests against real processes.
enum HTTP {
    static func send(
        _ method: String, _ url: String, token: String? = nil, body: String? = nil
    ) async throws
        -> (Int, JSONValue)
    {
        let (status, json, _) = try await exchange(method, url, token: token, body: body)
        return (status, json)
    }

    /// The body of a GET, as text (`/metrics`).
    static func text(_ url: String) async throws -> String {
        let (data, _) = try await URLSession.shared.data(from: URL(string: url)!)
        return String(decoding: data, as: UTF8.self)
    }

    /// Like `send`, with the response's headers.
    static func exchange(
        _ method: String, _ url: String, token: String? = nil, body: String? = nil
    ) async throws
        -> (Int, JSONValue, [String: String])
    {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.timeoutInterval = 10
        if let token { request.setValue(token, forHTTPHeaderField: "Authorization") }
        if let body {
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as? HTTPURLResponse
        var headers: [String: String] = [:]
        for (key, value) in http?.allHeaderFields ?? [:] {
            if let key = key as? String, let value = value as? String { headers[key.lowercased()] = value }
        }
        return (http?.statusCode ?? 0, JSONValue.parse(data) ?? .null, headers)
    }
}
