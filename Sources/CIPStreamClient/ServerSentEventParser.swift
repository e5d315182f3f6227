#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
///
/// Lines are found with `memchr` and handled whole, not byte by byte: a client catching up on a
/// stream reads a hundred megabytes at a time, and a per-byte loop was its bottleneck (the
/// change stream's overflow test spent two minutes of a debug build's CPU in it).
public struct ServerSentEventParser: Sendable {
    /// The start of a line whose end has not arrived yet.
    private var partial: [UInt8] = []
    private var lastWasCR = false
    private var eventType = ""
    private var data: [String] = []
    private var id: String?
    /// Comment lines seen (`: keep-alive`).
    public private(set) var comments = 0

    public init() {}

    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [ServerSentEvent] {
        if let events = bytes.withContiguousStorageIfAvailable({ feed(UnsafeRawBufferPointer($0)) }) {
            return events
        }
        let copied = Array(bytes)
        return copied.withUnsafeBytes { feed($0) }
    }

    private mutating func feed(_ bytes: UnsafeRawBufferPointer) -> [ServerSentEvent] {
        var dispatched: [ServerSentEvent] = []
        guard let base = bytes.baseAddress else { return dispatched }
        var start = 0
        while start < bytes.count {
            if lastWasCR {
                lastWasCR = false
                if bytes[start] == Self.lf {
                    start += 1
                    continue
                }
            }
            let rest = bytes.count - start
            let lineEnd = Self.find(Self.lf, in: base + start, count: rest) ?? rest
            let end = Self.find(Self.cr, in: base + start, count: lineEnd) ?? lineEnd
            guard end < rest else {
                partial.append(contentsOf: UnsafeRawBufferPointer(start: base + start, count: end))
                break
            }
            lastWasCR = bytes[start + end] == Self.cr
            let event: ServerSentEvent?
            if partial.isEmpty {
                event = endLine(UnsafeRawBufferPointer(start: base + start, count: end))
            } else {
                partial.append(contentsOf: UnsafeRawBufferPointer(start: base + start, count: end))
                event = partial.withUnsafeBytes { endLine($0) }
                partial.removeAll(keepingCapacity: true)
            }
            if let event { dispatched.append(event) }
            start += end + 1
        }
        return dispatched
    }

    private static let lf = UInt8(ascii: "\n")
    private static let cr = UInt8(ascii: "\r")

    /// The offset of the first `byte` among `count` bytes from `start`.
    private static func find(_ byte: UInt8, in start: UnsafeRawPointer, count: Int) -> Int? {
        guard count > 0, let found = memchr(start, Int32(byte), count) else { return nil }
        return UnsafeRawPointer(found) - start
    }

    private mutating func endLine(_ line: UnsafeRawBufferPointer) -> ServerSentEvent? {
        guard let first = line.first else { return dispatch() }
        if first == UInt8(ascii: ":") {
            comments += 1
            return nil
        }
        var field = line
        var value = UnsafeRawBufferPointer(start: nil, count: 0)
        if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            field = UnsafeRawBufferPointer(rebasing: line[..<colon])
            var valueStart = colon + 1
            if valueStart < line.count && line[valueStart] == UInt8(ascii: " ") { valueStart += 1 }
            value = UnsafeRawBufferPointer(rebasing: line[valueStart...])
        }
        switch String(decoding: field, as: UTF8.self) {
        case "event": eventType = String(decoding: value, as: UTF8.self)
        case "data": data.append(String(decoding: value, as: UTF8.self))
        case "id": id = String(decoding: value, as: UTF8.self)
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
