import CIPDomain
import Hummingbird
import NIOCore

/// Builds the JSON responses of the API.
enum APIResponse {
    static func json(_ status: HTTPResponse.Status, _ text: String, headers: HTTPFields = [:]) -> Response {
        json(status, body: ByteBuffer(string: text), headers: headers)
    }

    static func json(
        _ status: HTTPResponse.Status, headers: HTTPFields = [:], capacity: Int = 512,
        _ write: (inout JSONWriter) -> Void
    ) -> Response {
        var writer = JSONWriter(capacity: capacity)
        write(&writer)
        return json(status, body: ByteBuffer(bytes: writer.bytes), headers: headers)
    }

    private static func json(_ status: HTTPResponse.Status, body: ByteBuffer, headers: HTTPFields) -> Response {
        var headers = headers
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: body))
    }

    /// `{"error": "<name>"}`
    static func error(_ status: HTTPResponse.Status, _ name: String, headers: HTTPFields = [:]) -> Response {
        json(status, headers: headers) { writer in
            writer.beginObject()
            writer.key("error")
            writer.string(name)
            writer.endObject()
        }
    }

    /// `{"errors": {"<key>": ["<message>", ...]}}`
    static func errors(_ status: HTTPResponse.Status, _ errors: ValidationErrors) -> Response {
        json(status) { writer in
            writer.beginObject()
            writer.key("errors")
            writer.writeValidationErrors(errors)
            writer.endObject()
        }
    }
}

extension JSONWriter {
    mutating func writeValidationErrors(_ errors: ValidationErrors) {
        beginObject()
        for entry in errors.entries {
            key(entry.key)
            beginArray()
            for message in entry.messages { string(message) }
            endArray()
        }
        endObject()
    }
}
