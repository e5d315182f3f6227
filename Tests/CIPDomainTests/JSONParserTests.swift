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

    /// Bytes that are not UTF-8 are not a string, wherever they stand; ASCII up to 0x7F is.
    @Test(arguments: [
        [0xFF], [0x80], [0xC0, 0xAF], [0xE2, 0x98], [0x61, 0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80],
    ])
    func refusesBytesThatAreNotUTF8(_ bad: [UInt8]) {
        let quote = UInt8(ascii: "\"")
        #expect(JSONValue.parseBody(Data([quote] + bad + [quote])) == .failure(.notJSON))
        #expect(JSONValue.parseBody(Data(Array(#"{"k": "a"#.utf8) + bad + Array(#"b"}"#.utf8))) == .failure(.notJSON))
        #expect(JSONValue.parseBody(Data(Array(#"{"k": "\\n"#.utf8) + bad + Array(#""}"#.utf8))) == .failure(.notJSON))
    }

    @Test func readsASCIIAndUTF8Alike() {
        #expect(JSONValue.parseBody(Data([0x22, 0x7F, 0x41, 0x22])) == .success(.string("\u{7F}A")))
        #expect(JSONValue.parseBody(Data([0x22, 0xC3, 0xA9, 0x22])) == .success(.string("é")))
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
