import CIPDomain
import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1

/// A PUT/POST body as read, before anything is decided about it: its failure is answered only after
/// the token is checked (SPEC 2.5's order), and its `oauth_token` may be the token.
enum RequestPayload: Sendable {
    case object([String: JSONValue])
    case failure(DomainError)

    /// Reads at most `limit` bytes of `request`'s body and checks that it is a JSON object.
    static func read(_ request: Request, limit: Int) async -> RequestPayload {
        let buffer: ByteBuffer
        if let announced = request.headers[.contentLength].flatMap(Int.init), announced > limit {
            // Refused without reading: a client waiting on `Expect: 100-continue` never sends it.
            return .failure(.bodyTooLarge)
        }
        do {
            buffer = try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            return .failure(.bodyTooLarge)
        } catch let error as HTTPParserError {
            // Malformed framing (a bad chunk, an unknown transfer coding) is not a size problem.
            return .failure(.malformedBody(ConnectionGuard.unreadableMessage(error)))
        } catch {
            return .failure(.malformedBody("ended before it was complete"))
        }
        if let contentType = request.headers[.contentType], !isJSON(contentType) {
            return .failure(.unsupportedMediaType)
        }
        guard buffer.readableBytes > 0 else {
            return .failure(.malformedBody("is required: send a JSON object"))
        }
        let value: JSONValue
        switch JSONValue.parseBody(Data(buffer.readableBytesView)) {
        case .success(let parsed): value = parsed
        case .failure(.notJSON): return .failure(.malformedBody("is not valid JSON"))
        case .failure(.duplicateKey(let key)):
            return .failure(.malformedBody("has the key \"\(key.prefix(64))\" more than once"))
        }
        guard let members = value.objectValue else {
            return .failure(.malformedBody("must be a JSON object"))
        }
        return .object(members)
    }

    /// The body's own token, when it carries one.
    var oauthToken: String? {
        if case .object(let members) = self { return members["oauth_token"]?.stringValue }
        return nil
    }

    /// The members of a readable body; throws the body's failure otherwise.
    func members() throws -> [String: JSONValue] {
        switch self {
        case .object(let members): return members
        case .failure(let error): throw error
        }
    }

    /// A body's `oauth_token` that is not a string is an invalid field, not one to ignore.
    static func checkToken(_ members: [String: JSONValue], errors: inout ValidationErrors) {
        if let token = members["oauth_token"], token.stringValue == nil {
            errors.add("oauth_token", "must be a string")
        }
    }

    private static func isJSON(_ contentType: String) -> Bool {
        // What clients send nearly always, answered without splitting, trimming and lowercasing.
        if contentType == "application/json" || contentType == "application/json; charset=utf-8" { return true }
        let mediaType = contentType.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() ?? ""
        return mediaType == "application/json" || (mediaType.hasPrefix("application/") && mediaType.hasSuffix("+json"))
    }
}
