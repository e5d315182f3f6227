import ArgumentParser
import CIPDomain
import Foundation

/// `cip`: the Calls In Progress service and its administration.
struct CIP: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cip",
        abstract: "Calls In Progress: the system of record for live calls.",
        version: cipVersion,
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
            if case .invalid(let field, let problem) = error as? CatalogError {
                message = "\(CIP.flag(naming: field)) \(problem)"
            } else if let catalogError = error as? CatalogError {
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

extension CIP {
    /// The flag that gives an administrative input the operations name by its API field.
    static func flag(naming field: String) -> String {
        let flags = [
            "network_id": "--network", "advertiser_id": "--advertiser", "data_type": "--type",
            "allowed_values": "--allowed-value", "add_allowed_values": "--add-allowed-value",
        ]
        return flags[field] ?? "--" + field.replacingOccurrences(of: "_", with: "-")
    }
}
