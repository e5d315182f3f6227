import ArgumentParser
import CIPDomain
import Foundation

/// `cip`: the Calls In Progress service and its administration.
struct CIP: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cip",
        abstract: "Calls In Progress: the system of record for live calls.",
        subcommands: [Serve.self, Admin.self, Simulate.self, Watch.self])
}

/// Runs the command line, printing failures as one line on stderr (SPEC 6).
@main
enum Main {
    static func main() async {
        do {
            var command = try CIP.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = CIP.exitCode(for: error)
            if code == .success || error is CleanExit {
                CIP.exit(withError: error)
            }
            let message: String
            if let catalogError = error as? CatalogError {
                message = catalogError.description
            } else {
                message = CIP.message(for: error)
            }
            let firstLine = message.split(separator: "\n").first.map(String.init) ?? "failed"
            FileHandle.standardError.write(Data("cip: \(firstLine)\n".utf8))
            Foundation.exit(code.rawValue == 0 ? 1 : code.rawValue)
        }
    }
}
