import CIPDomain
import Foundation

/// A list of strings kept in one text column as a JSON array.
enum StoredList {
    static func encode(_ values: [String]) -> String {
        var writer = JSONWriter()
        writer.value(.array(values.map(JSONValue.string)))
        return writer.text
    }

    static func decode(_ text: String) -> [String] {
        guard case .array(let elements)? = JSONValue.parse(text: text) else { return [] }
        return elements.compactMap(\.stringValue)
    }
}
