/// SPEC 2.7: a call's ETag is `"<transaction_id>.<version>"`, so a client can build it from any call
/// object it holds.
extension CallRecord {
    public var etag: String { "\"\(transactionID).\(version)\"" }
}

/// An `If-Match` header (RFC 9110 13.1.1): `*`, or a list of entity tags compared strongly (a weak
/// `W/"..."` tag never matches).
public enum IfMatch: Sendable, Hashable {
    case any
    case tags(Set<String>)

    public init(header: String) {
        let trimmed = header.trimmingSpacesAndTabs
        if trimmed == "*" {
            self = .any
            return
        }
        self = .tags(Set(EntityTagList.parse(trimmed)))
    }

    /// Whether `record`'s current ETag satisfies the condition.
    public func allows(_ record: CallRecord) -> Bool {
        switch self {
        case .any: return true
        case .tags(let tags): return tags.contains(record.etag)
        }
    }
}

/// The entity tags of a list header, each with its quotes; weak ones keep their `W/` (so they never
/// equal a strong tag).
public enum EntityTagList {
    public static func parse(_ header: String) -> [String] {
        var tags: [String] = []
        var rest = Substring(header)
        while !rest.isEmpty {
            rest = rest.drop { $0 == " " || $0 == "\t" || $0 == "," }
            guard !rest.isEmpty else { break }
            var weak = ""
            if rest.hasPrefix("W/") {
                weak = "W/"
                rest = rest.dropFirst(2)
            }
            guard rest.first == "\"", let close = rest.dropFirst().firstIndex(of: "\"") else {
                // Not an entity tag: skip to the next comma; it matches nothing.
                rest = rest.drop { $0 != "," }
                continue
            }
            tags.append(weak + String(rest[rest.startIndex...close]))
            rest = rest[rest.index(after: close)...]
        }
        return tags
    }
}

extension String {
    fileprivate var trimmingSpacesAndTabs: String {
        var text = Substring(self)
        while text.first == " " || text.first == "\t" { text.removeFirst() }
        while text.last == " " || text.last == "\t" { text.removeLast() }
        return String(text)
    }
}
