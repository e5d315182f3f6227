import Foundation

extension JSONValue {
    /// Parses a JSON document; nil when `data` is not JSON.
    public static func parse(_ data: Data) -> JSONValue? {
        JSONParser.parse(Array(data))
    }

    /// Parses a JSON document from text; nil when it is not JSON.
    public static func parse(text: String) -> JSONValue? {
        JSONParser.parse(Array(text.utf8))
    }
}
