import Foundation

/// Standard output for the commands. Once its reader has gone (`cip watch | head`), the command ends
/// quietly with status 0, as command-line tools do, instead of trapping in `FileHandle.write`.
enum StandardOutput {
    static func write(_ data: Data) {
        do {
            try FileHandle.standardOutput.write(contentsOf: data)
        } catch {
            Foundation.exit(0)
        }
    }

    static func write(_ text: String) {
        write(Data(text.utf8))
    }

    /// For the server, which must not stop because nobody reads what it prints: a failure is ignored.
    static func bestEffort(_ text: String) {
        try? FileHandle.standardOutput.write(contentsOf: Data(text.utf8))
    }
}
