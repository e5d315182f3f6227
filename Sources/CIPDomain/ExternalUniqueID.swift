/// SPEC 2.4: an external unique id is 1–255 printable characters.
public enum ExternalUniqueID {
    public static let maxLength = 255

    /// Nil when `text` is acceptable, else the message that says why not.
    public static func problem(with text: String) -> String? {
        if text.isEmpty { return "must not be empty" }
        // The common case, printable ASCII (one character per byte), without Unicode's tables.
        if text.utf8.allSatisfy({ (0x20...0x7E).contains($0) }) {
            return text.utf8.count > maxLength ? "must be at most 255 characters" : nil
        }
        if text.count > maxLength { return "must be at most 255 characters" }
        let printable = text.unicodeScalars.allSatisfy { scalar in
            scalar.properties.generalCategory != .control && scalar.properties.generalCategory != .format
                && scalar.properties.generalCategory != .lineSeparator
                && scalar.properties.generalCategory != .paragraphSeparator
        }
        return printable ? nil : "must contain printable characters only"
    }
}
