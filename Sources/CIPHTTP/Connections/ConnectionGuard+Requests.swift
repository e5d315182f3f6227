import CIPDomain
import NIOHTTP1

/// What the guard reads from a request's head, and the answers it writes itself.
extension ConnectionGuard {
    static func hasBody(_ head: HTTPRequestHead) -> Bool {
        if head.headers.contains(name: "transfer-encoding") { return true }
        return head.headers.first(name: "content-length").flatMap(Int.init).map { $0 > 0 } ?? false
    }

    static func expectsContinue(_ head: HTTPRequestHead) -> Bool {
        head.version.minor >= 1 && head.headers["expect"].contains { $0.lowercased() == "100-continue" }
    }

    static func announcesMoreThan(_ limit: Int, _ head: HTTPRequestHead) -> Bool {
        head.headers.first(name: "content-length").flatMap(Int.init).map { $0 > limit } ?? false
    }

    static func badRequestBody(_ error: HTTPParserError) -> String {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("errors")
        writer.beginObject()
        writer.key("body")
        writer.beginArray()
        writer.string(unreadableMessage(error))
        writer.endArray()
        writer.endObject()
        writer.endObject()
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// SPEC 2.5's 400 message for a request the HTTP parser refused.
    static func unreadableMessage(_ error: HTTPParserError) -> String {
        switch error {
        case .unknown:
            // llhttp's word for a Transfer-Encoding other than chunked (`xchunked`, `identity`).
            return "is not a valid HTTP/1.1 request (its framing cannot be read: only Content-Length or chunked)"
        default:
            return "is not a valid HTTP/1.1 request (\(error))"
        }
    }
}

/// Why a request's body ended before it was whole.
enum IncompleteRequest: Error {
    case connectionClosed
    case answeredEarly
}
