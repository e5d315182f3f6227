import ArgumentParser
import CIPAdministration
import CIPDomain
import CIPHTTP
import CIPStore
import Foundation
import Synchronization

struct CallsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calls", abstract: "Export completed calls (SPEC 5).", subcommands: [Export.self])

    /// `cip admin calls export`: completed calls as JSON lines (SPEC 5), streamed in constant memory.
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write completed calls as JSON lines, oldest end first.")
        @OptionGroup var database: DatabaseOption
        @Option(help: "Only calls of this network.") var network: Int64?
        @Option(help: "Only calls of this advertiser.") var advertiser: Int64?
        @Option(help: "Only calls that ended at or after this ISO 8601 time.") var since: String?
        @Option(help: "Only calls that ended before this ISO 8601 time.") var until: String?

        func run() async throws {
            let filter = CompletedCallFilter(
                networkID: try network.map { try AdminInput.id($0, field: "network_id") },
                advertiserID: try advertiser.map { try AdminInput.id($0, field: "advertiser_id") },
                since: try since.map { try Self.time($0, flag: "--since") },
                until: try until.map { try Self.time($0, flag: "--until") })
            let output = LineWriter(showProgress: isatty(STDERR_FILENO) == 1)
            try await database.withAdminStore { store in
                try await store.forEachCompletedCall(filter) { call in
                    var writer = JSONWriter()
                    writer.writeCall(call, asCompleted: true)
                    output.write(writer.text)
                }
            }
            output.finish()
        }

        private static func time(_ text: String, flag: String) throws -> Timestamp {
            guard let time = Timestamp(iso8601: text) else {
                throw CatalogError.invalidArgument("\(flag) must be an ISO 8601 time such as 2022-12-10T13:49:00Z")
            }
            return time
        }
    }
}

/// Buffers lines to stdout in fixed-size chunks; on a terminal, keeps a count on stderr.
final class LineWriter: Sendable {
    private struct State {
        var buffer: [UInt8] = []
        var count = 0
    }

    private let state = Mutex(State())
    private let showProgress: Bool
    private static let chunk = 64 * 1024

    init(showProgress: Bool) {
        self.showProgress = showProgress
    }

    func write(_ line: String) {
        state.withLock { state in
            state.buffer.append(contentsOf: line.utf8)
            state.buffer.append(UInt8(ascii: "\n"))
            state.count += 1
            if state.buffer.count >= Self.chunk { flush(&state) }
        }
    }

    func finish() {
        state.withLock { state in
            flush(&state)
            if showProgress { FileHandle.standardError.write(Data("\rexported \(state.count) calls\n".utf8)) }
        }
    }

    private func flush(_ state: inout State) {
        StandardOutput.write(Data(state.buffer))
        state.buffer.removeAll(keepingCapacity: true)
        if showProgress { FileHandle.standardError.write(Data("\rexported \(state.count) calls".utf8)) }
    }
}
