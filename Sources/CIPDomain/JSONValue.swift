/// Any JSON value, as read from a request body whose shape must be checked by hand.
public enum JSONValue: Sendable, Hashable {
    case null
    case bool(Bool)
    case integer(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public var stringValue: String? {
        if case .string(let text) = self { return text }
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
        case .double(let value):
            guard value > 0, value == value.rounded(), value < 9e15 else { return nil }
            return Int64(value)
        case .string(let text): return PositiveID.parse(text)
        default: return nil
        }
    }

    /// Strings as they are; numbers as their decimal text (`42`, `1.5`); nil for anything else.
    public var scalarText: String? {
        switch self {
        case .string(let text): return text
        case .integer(let value): return String(value)
        case .double(let value):
            if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
            return String(value)
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
