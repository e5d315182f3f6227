import CIPDomain
import Testing

@Suite("JSON writing, timestamps and token hashes")
struct JSONWriterTests {
    @Test func stringsAreEscapedAndReadBackUnchanged() {
        let samples = [
            "plain", "quote \" and backslash \\", "line\nfeed\ttab\rreturn", "bell \u{07} nul \u{00}", "é 😀 ünïcode",
            "",
        ]
        for sample in samples {
            var writer = JSONWriter()
            writer.beginObject()
            writer.key(sample)
            writer.string(sample)
            writer.endObject()
            #expect(JSONValue.parse(text: writer.text) == .object([sample: .string(sample)]), "\(sample)")
        }
        var writer = JSONWriter()
        writer.string("a\u{01}\"b")
        #expect(writer.text == #""a\u0001\"b""#)
    }

    @Test func nestedValuesAreSeparatedByCommas() {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("list")
        writer.beginArray()
        writer.integer(-5)
        writer.bool(true)
        writer.null()
        writer.timestamp(Timestamp(milliseconds: 7))
        writer.endArray()
        writer.key("empty")
        writer.beginObject()
        writer.endObject()
        writer.endObject()
        #expect(writer.text == #"{"list":[-5,true,null,"1970-01-01T00:00:00.007Z"],"empty":{}}"#)
    }

    @Test func timestampsHaveFixedWidthFields() {
        #expect(Timestamp(milliseconds: 0).description == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp(milliseconds: -62_135_596_800_000).description == "0001-01-01T00:00:00.000Z")
        #expect(Timestamp(milliseconds: 253_402_300_799_999).description == "9999-12-31T23:59:59.999Z")
        #expect(Timestamp(milliseconds: 1_670_680_140_050).description == "2022-12-10T13:49:00.050Z")
    }

    @Test func tokenHashesAreLowercaseHexSHA256() {
        #expect(TokenHash(of: "abc").hex == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(TokenHash(of: "").hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }
}
