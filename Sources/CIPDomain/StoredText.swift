/// What every string the service stores may hold.
///
/// Control characters are refused rather than stored: SQLite's C strings cut a value at NUL (so it
/// would read differently after a restart than live), PostgreSQL's `text` cannot hold NUL at all,
/// and the rest have no business in a caller ID, a name or an id. Text values of custom data may
/// span lines, so they keep tab, line feed and carriage return.
public enum StoredText {
    public static let message = "must not contain control characters"
    public static let multilineMessage = "must not contain control characters other than tab and line breaks"

    /// True when `text` holds no C0 control character and no DEL.
    public static func isSingleLine(_ text: String) -> Bool {
        text.utf8.allSatisfy { $0 >= 0x20 && $0 != 0x7F }
    }

    /// True when `text` holds no control character but tab, line feed and carriage return.
    public static func isMultiline(_ text: String) -> Bool {
        text.utf8.allSatisfy { ($0 >= 0x20 && $0 != 0x7F) || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
    }
}
