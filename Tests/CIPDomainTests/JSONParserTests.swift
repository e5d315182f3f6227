import CIPDomain
import Foundation
import Testing

@Suite("JSON parsing of bodies and stored values")
struct JSONParserTests {
    @Test func readsEveryKindOfValue() {
        let parsed = JSONValue.parse(text: #" {"a": [1, -2, 3.5, 1e3, true, false, null], "b": {"c": "d"}, "e": ""} "#)
        #expect(
            parsed
                == .object([
                    "a": .array([
                        .integer(1), .integer(-2), .number("3.5"), .number("1e3"), .bool(true), .bool(false), .null,
                    ]),
                    "b": .object(["c": .string("d")]), "e": .string(""),
                ]))
    }

    @Test func readsEscapesAndUnicode() {
        #expect(JSONValue.parse(text: #""a\"b\\c\/d\n\t\u00e9\ud83d\ude00""#) == .string("a\"b\\c/d\n\té😀"))
        #expect(JSONValue.parse(text: #""Zoë ☎""#) == .string("Zoë ☎"))
    }

    @Test(arguments: [
        "", "{", "}", "[1,]", "{\"a\":1,}", "{a:1}", "'x'", "01", "1.", ".5", "-", "+1", "tru", "nul",
        "\"unterminated", "\"bad \\x escape\"", "\"\\ud83d alone\"", "{\"a\" 1}", "[1 2]", "1 2", "\"tab\there\"",
    ])
    func refusesWhatIsNotJSON(_ text: String) {
        #expect(JSONValue.parse(text: text) == nil)
    }

    @Test func refusesDeepNesting() {
        #expect(JSONValue.parse(text: String(repeating: "[", count: 65) + String(repeating: "]", count: 65)) == nil)
        #expect(JSONValue.parse(text: String(repeating: "[", count: 64) + String(repeating: "]", count: 64)) != nil)
    }

    @Test func keepsLargeIntegersExactAndOtherNumbersAsTheirText() {
        #expect(JSONValue.parse(text: "9007199254740993") == .integer(9_007_199_254_740_993))
        #expect(JSONValue.parse(text: "99999999999999999999") == .number("99999999999999999999"))
        #expect(JSONValue.parse(text: "1e999") == .number("1e999"))
        #expect(JSONValue.parse(text: "-0.50") == .number("-0.50"))
    }

    @Test func refusesDuplicateKeysInBodies() {
        #expect(JSONValue.parseBody(Data(#"{"a":1,"b":{"c":1,"c":2}}"#.utf8)) == .failure(.duplicateKey("c")))
        #expect(JSONValue.parseBody(Data(#"{"a":1,"a":1}"#.utf8)) == .failure(.duplicateKey("a")))
        #expect(
            JSONValue.parseBody(Data(#"{"a":1,"b":[{"a":2}]}"#.utf8))
                == .success(.object(["a": .integer(1), "b": .array([.object(["a": .integer(2)])])])))
        #expect(JSONValue.parseBody(Data("{".utf8)) == .failure(.notJSON))
    }
}
