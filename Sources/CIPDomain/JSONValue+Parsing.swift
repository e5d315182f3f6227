import Foundation

extension JSONValue {
    /// Parses a JSON document; nil when `data` is not JSON.
    public static func parse(_ data: Data) -> JSONValue? {
        JSONParser.parse(Array(data))
    }

    /// Parses a request body: a JSON document in which no object holds a key twice (RFC 7493).
    public static func parseBody(_ data: Data) -> Result<JSONValue, JSONParseFailure> {
        JSONParser.parseDocument(Array(data))
    }

    /// Parses a JSON document from text; nil when it is not JSON.
    public static func parse(text: String) -> JSONValue? {
        JSONParser.parse(Array(text.utf8))
    }
}
