import CIPStreamClient
import Testing

/// The stream client's parser against the WHATWG rules for `text/event-stream`, whole and cut into
/// pieces anywhere (bytes arrive as the network hands them over).
@Suite struct ServerSentEventParserTests {
    static let stream = [
        ": keep-alive", "event: snapshot", "id: 7", #"data: {"sequence":7}"#, "",
        "event: call_updated", "id: 8", "data: first line", "data:second line, no space", "data:  two spaces", "",
        "event: nothing", "id: 9", "",
        "unknown field: ignored", "data", "",
        "data: kept id", "",
    ]
    static let expected = [
        ServerSentEvent(event: "snapshot", id: "7", data: #"{"sequence":7}"#),
        ServerSentEvent(event: "call_updated", id: "8", data: "first line\nsecond line, no space\n two spaces"),
        // An event without data is not dispatched, but its id stays (as EventSource keeps it).
        ServerSentEvent(event: "message", id: "9", data: ""),
        ServerSentEvent(event: "message", id: "9", data: "kept id"),
    ]

    @Test(arguments: ["\n", "\r\n", "\r"]) func readsEveryLineEnding(_ end: String) {
        var parser = ServerSentEventParser()
        let text = Self.stream.map { $0 + end }.joined()
        #expect(parser.feed(Array(text.utf8)) == Self.expected)
        #expect(parser.comments == 1)
    }

    @Test(arguments: ["\n", "\r\n", "\r"]) func givesTheSameEventsHoweverTheBytesAreCut(_ end: String) {
        let bytes = Array((Self.stream.map { $0 + end }.joined()).utf8)
        for cut in 0...bytes.count {
            var parser = ServerSentEventParser()
            let events = parser.feed(bytes[..<cut]) + parser.feed(bytes[cut...])
            #expect(events == Self.expected, "cut at \(cut)")
        }
        var parser = ServerSentEventParser()
        let oneByOne = bytes.flatMap { parser.feed([$0]) }
        #expect(oneByOne == Self.expected)
    }

    @Test func readsBytesThatAreNotContiguous() {
        var parser = ServerSentEventParser()
        let text = Self.stream.map { $0 + "\n" }.joined()
        #expect(parser.feed(text.utf8.lazy.map { $0 }) == Self.expected)
    }

    @Test func aLineWithoutItsEndWaitsForIt() {
        var parser = ServerSentEventParser()
        #expect(parser.feed(Array("data: no end yet\n".utf8)).isEmpty)
        #expect(parser.feed(Array("\n".utf8)) == [ServerSentEvent(event: "message", id: nil, data: "no end yet")])
        #expect(parser.feed(Array("data: é, split".utf8)).isEmpty)
        #expect(parser.feed(Array("\r".utf8)).isEmpty)
        // The LF after a chunk's last CR belongs to it: not a blank line.
        #expect(
            parser.feed(Array("\ndata: more\n\n".utf8)) == [
                ServerSentEvent(event: "message", id: nil, data: "é, split\nmore")
            ])
    }
}
