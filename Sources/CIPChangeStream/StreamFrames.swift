import CIPDomain
import CIPStore
import NIOCore

/// The bytes of SPEC 8's Server-Sent Events.
enum StreamFrames {
    /// Sent first: how long a browser's `EventSource` waits before it reconnects.
    static let retry = ByteBuffer(string: "retry: 1000\n\n")
    static let keepAlive = ByteBuffer(string: ": keep-alive\n\n")

    /// `event: snapshot`: the organization's calls as of `snapshot.sequence`.
    static func snapshot(_ snapshot: ChangeSnapshot) -> ByteBuffer {
        var writer = JSONWriter(capacity: snapshot.calls.reduce(64) { $0 + $1.bytes.count + 1 })
        writer.beginObject()
        writer.key("sequence")
        writer.integer(snapshot.sequence)
        writer.key("current_calls")
        writer.beginArray()
        for call in snapshot.calls { writer.callObject(call) }
        writer.endArray()
        writer.endObject()
        return frame(event: "snapshot", id: snapshot.sequence, data: writer.bytes)
    }

    /// `event: call_bridged | call_updated | call_ended` with SPEC 8's data. Bytes of their exact size:
    /// a node keeps thousands of these, and a `ByteBuffer` rounds its capacity up to a power of two.
    static func change(_ change: LoggedChange) -> [UInt8] {
        frameBytes(event: change.kind.rawValue, id: change.sequence, data: change.eventData)
    }

    /// `event: reset`, followed by a fresh snapshot: the stream cannot continue from where it was.
    static func reset(_ reason: String) -> ByteBuffer {
        frame(event: "reset", id: nil, data: reasonData(reason))
    }

    /// `event: overflow`, before the stream is closed: the client resumes with `Last-Event-ID`.
    static func overflow(_ reason: String) -> ByteBuffer {
        frame(event: "overflow", id: nil, data: reasonData(reason))
    }

    private static func reasonData(_ reason: String) -> [UInt8] {
        var writer = JSONWriter(capacity: 64)
        writer.beginObject()
        writer.key("reason")
        writer.string(reason)
        writer.endObject()
        return writer.bytes
    }

    /// One event. JSON written by `JSONWriter` holds no raw line break, so `data` is one line.
    private static func frame(event: String, id: Int64?, data: [UInt8]) -> ByteBuffer {
        ByteBuffer(bytes: frameBytes(event: event, id: id, data: data))
    }

    private static func frameBytes(event: String, id: Int64?, data: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(data.count + 64)
        bytes.append(contentsOf: "event: \(event)\n".utf8)
        if let id { bytes.append(contentsOf: "id: \(id)\n".utf8) }
        bytes.append(contentsOf: "data: ".utf8)
        bytes.append(contentsOf: data)
        bytes.append(contentsOf: "\n\n".utf8)
        return bytes
    }
}
