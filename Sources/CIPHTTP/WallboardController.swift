import CIPDomain
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
            var print = Fingerprint()
            print.add(bytes: file.bytes)
            let etag = "\"\(print.hex)\""
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
}

extension HTTPField.Name {
    static let referrerPolicy = Self("Referrer-Policy")!
}
