/// One event of a `text/event-stream`, as a browser's `EventSource` dispatches it.
public struct ServerSentEvent: Sendable, Equatable {
    public var event: String
    public var id: String?
    public var data: String

    public init(event: String, id: String?, data: String) {
        self.event = event
        self.id = id
        self.data = data
    }
}

/// Reads Server-Sent Events from bytes as they arrive (the WHATWG HTML rules: lines end with LF, CR
/// or CRLF; a blank line dispatches; `:` starts a comment; an event without data is not dispatched).
public struct ServerSentEventParser: Sendable {
    private var line: [UInt8] = []
    private var lastWasCR = false
    private var eventType = ""
    private var data: [String] = []
    private var id: String?
    /// Comment lines seen (`: keep-alive`).
    public private(set) var comments = 0

    public init() {}

    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [ServerSentEvent] {
        var dispatched: [ServerSentEvent] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") && lastWasCR {
                lastWasCR = false
                continue
            }
            lastWasCR = byte == UInt8(ascii: "\r")
            if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") {
                if let event = endLine() { dispatched.append(event) }
            } else {
                line.append(byte)
            }
        }
        return dispatched
    }

    private mutating func endLine() -> ServerSentEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        guard !line.isEmpty else { return dispatch() }
        if line.first == UInt8(ascii: ":") {
            comments += 1
            return nil
        }
        let text = String(decoding: line, as: UTF8.self)
        var field = Substring(text)
        var value = Substring("")
        if let colon = text.firstIndex(of: ":") {
            field = text[..<colon]
            value = text[text.index(after: colon)...]
            if value.first == " " { value.removeFirst() }
        }
        switch field {
        case "event": eventType = String(value)
        case "data": data.append(String(value))
        case "id": id = String(value)
        default: break
        }
        return nil
    }

    private mutating func dispatch() -> ServerSentEvent? {
        defer {
            eventType = ""
            data = []
        }
        guard !data.isEmpty else { return nil }
        return ServerSentEvent(
            event: eventType.isEmpty ? "message" : eventType, id: id, data: data.joined(separator: "\n"))
    }
}
