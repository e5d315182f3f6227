import CIPWallboard
import HTTPTypes
import Hummingbird
import NIOCore

/// SPEC 10: serves the wallboard page's files from the binary. No token is needed for the page
/// itself; what it shows comes from the change stream, with the token the user pastes.
struct WallboardController: Sendable {
    private struct Served: Sendable {
        let body: ByteBuffer
        let headers: HTTPFields
        let etag: String
    }
    private let served: [String: Served]

    init(files: [WallboardFile] = Wallboard.files) {
        var served: [String: Served] = [:]
        for file in files {
            let etag = "\"\(Self.fingerprint(file.bytes))\""
            let headers: HTTPFields = [
                .contentType: file.contentType,
                .contentSecurityPolicy: Wallboard.contentSecurityPolicy,
                .xContentTypeOptions: "nosniff",
                .referrerPolicy: "no-referrer",
                // Revalidated on every load, so a new binary's page is never mixed with an old script.
                .cacheControl: "no-cache",
                .eTag: etag,
            ]
            served[file.path] = Served(body: ByteBuffer(bytes: file.bytes), headers: headers, etag: etag)
        }
        self.served = served
    }

    func file(_ request: Request, context: some RequestContext) async throws -> Response {
        guard let file = served[request.uri.path] else { throw HTTPError(.notFound) }
        if let match = request.headers[.ifNoneMatch],
            match.split(separator: ",").contains(where: { tag in
                let tag = tag.trimmingCharacters(in: .whitespaces)
                return tag == file.etag || tag == "W/\(file.etag)" || tag == "*"
            })
        {
            return Response(status: .notModified, headers: file.headers)
        }
        return Response(status: .ok, headers: file.headers, body: ResponseBody(byteBuffer: file.body))
    }

    /// FNV-1a over the file: a validator that changes whenever the file does.
    private static func fingerprint(_ bytes: [UInt8]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}

extension HTTPField.Name {
    static let referrerPolicy = Self("Referrer-Policy")!
}
