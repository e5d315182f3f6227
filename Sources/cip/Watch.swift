import ArgumentParser
import AsyncHTTPClient
import CIPStreamClient
import Foundation
import Logging
import ServiceLifecycle

/// `cip watch`: a terminal client of the change stream (SPEC 8).
struct Watch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Follow an organization's change stream: one line per change, resuming after a dropped connection.",
        discussion: """
            Prints the snapshot as a count, then one line per change: its sequence number, type, \
            transaction id and what changed. On a terminal the last line shows the calls in progress.
            """)

    @Option(help: "The server's base URL.") var url: String
    @Option(help: "An organization token; or set CIP_TOKEN, which keeps it out of the process list.")
    var token: String?
    @Option(help: "network or advertiser.") var organizationType: String
    @Option(help: "The organization's id.") var id: Int64

    func validate() throws {
        guard URL(string: url)?.scheme?.hasPrefix("http") == true else {
            throw ValidationError("--url must be an http URL")
        }
        guard ["network", "advertiser"].contains(organizationType.lowercased()) else {
            throw ValidationError("--organization-type must be network or advertiser")
        }
        guard id > 0 else { throw ValidationError("--id must be a positive integer") }
        guard effectiveToken != nil else { throw ValidationError("--token (or CIP_TOKEN) is required") }
    }

    private var effectiveToken: String? { token ?? Environment.value("CIP_TOKEN") }

    func run() async throws {
        var logger = Logger(label: "cip.watch")
        logger.logLevel = .warning
        let target = StreamTarget(
            baseURL: url, token: effectiveToken!, organizationType: organizationType.lowercased(), organizationID: id)
        let watcher = Watcher(target: target, output: WatchOutput(onTerminal: isatty(STDOUT_FILENO) == 1))
        let group = ServiceGroup(
            configuration: .init(
                services: [.init(service: watcher, successTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// Follows the stream until Ctrl-C (or a refusal that retrying cannot change).
private struct Watcher: Service {
    let target: StreamTarget
    let output: WatchOutput

    func run() async throws {
        var configuration = HTTPClient.Configuration()
        // Keep-alives come every 15 s: a silent minute means the connection is gone.
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(45))
        let client = HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
        let follower = StreamFollower(target: target, client: client)
        let outcome: Result<Void, any Error>
        do {
            try await cancelWhenGracefulShutdown { try await follower.run { report in output.show(report) } }
            outcome = .success(())
        } catch {
            outcome = .failure(error)
        }
        output.finish()
        try? await client.shutdown()
        try outcome.get()
    }
}

/// What `cip watch` prints.
private struct WatchOutput: Sendable {
    let onTerminal: Bool

    func show(_ report: StreamFollower.Report) {
        switch report {
        case .connected(let after):
            line(after.map { "connected, resuming after \($0)" } ?? "connected", count: nil)
        case .disconnected(let reason):
            line("disconnected (\(reason)); reconnecting", count: nil)
        case .applied(let applied, let mirror):
            switch applied {
            case .snapshot(let count):
                line("snapshot at \(mirror.lastSequence ?? 0): \(count) calls in progress", count: mirror.calls.count)
            case .change(let type, let transactionID, let changed):
                let parts = changed.isEmpty ? "" : " " + changed.joined(separator: ", ")
                line("\(mirror.lastSequence ?? 0) \(type) \(transactionID)\(parts)", count: mirror.calls.count)
            case .reset:
                line("reset: starting again from a snapshot", count: nil)
            case .overflow:
                line("overflow: this client fell behind; resuming", count: nil)
            case .other:
                break
            }
        }
    }

    /// Prints `text` on a line of its own; on a terminal, the live count stays on the last line.
    private func line(_ text: String, count: Int?) {
        var out = onTerminal ? "\r\u{1B}[K" : ""
        out += text + "\n"
        if onTerminal, let count { out += "calls in progress: \(count)" }
        StandardOutput.write(out)
    }

    func finish() {
        if onTerminal { StandardOutput.write("\n") }
    }
}
