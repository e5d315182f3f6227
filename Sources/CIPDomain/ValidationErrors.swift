/// Messages per offending param or field, kept in the order they were found (SPEC 2.5's 403 body).
public struct ValidationErrors: Error, Sendable, Hashable {
    public private(set) var entries: [(key: String, messages: [String])] = []

    public init() {}

    public var isEmpty: Bool { entries.isEmpty }

    public mutating func add(_ key: String, _ message: String) {
        if let index = entries.firstIndex(where: { $0.key == key }) {
            if !entries[index].messages.contains(message) { entries[index].messages.append(message) }
        } else {
            entries.append((key, [message]))
        }
    }

    public mutating func merge(_ other: ValidationErrors) {
        for entry in other.entries {
            for message in entry.messages { add(entry.key, message) }
        }
    }

    public func messages(for key: String) -> [String] {
        entries.first(where: { $0.key == key })?.messages ?? []
    }

    public static func == (lhs: ValidationErrors, rhs: ValidationErrors) -> Bool {
        lhs.entries.elementsEqual(rhs.entries) { $0.key == $1.key && $0.messages == $1.messages }
    }

    public func hash(into hasher: inout Hasher) {
        for entry in entries {
            hasher.combine(entry.key)
            hasher.combine(entry.messages)
        }
    }
}
