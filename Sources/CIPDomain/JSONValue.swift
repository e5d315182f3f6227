/// Any JSON value, as read from a request body whose shape must be checked by hand.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case integer(Int64)
    /// A number that is not an Int64 (`1.5`, `1e300`, `99999999999999999999`), as the text it was
    /// sent as: SPEC 2.4 stores numbers as their decimal text, and a Double would round or overflow.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    public var objectValue: [String: JSONValue]? {
        if case .object(let members) = self { return members }
        return nil
    }

    /// The value as a positive id: a JSON integer, or a string of digits.
    public var positiveID: Int64? {
        switch self {
        case .integer(let value): return value > 0 ? value : nil
        case .number(let text):
            guard let value = Double(text), value > 0, value == value.rounded(), value < 9e15 else { return nil }
            return Int64(value)
        case .string(let text): return PositiveID.parse(text)
        default: return nil
        }
    }

    /// Strings as they are; numbers as the text they were sent as (`42`, `1.5`, `1e300`); nil for
    /// anything else.
    public var scalarText: String? {
        switch self {
        case .string(let text): return text
        case .integer(let value): return String(value)
        case .number(let text): return text
        default: return nil
        }
    }
}

/// Reads the positive integer ids of query params and CLI arguments.
public enum PositiveID {
    public static func parse(_ text: String) -> Int64? {
        guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
            let value = Int64(text), value > 0
        else { return nil }
        return value
    }
}
