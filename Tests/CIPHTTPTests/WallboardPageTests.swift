import CIPHTTP
import CIPTestSupport
import CIPWallboard
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// SPEC 10: how the wallboard's files are served. What the page does is tested in a real browser by
/// `scripts/wallboard_test.py` (run by `scripts/test`).
@Suite("The wallboard page (SPEC 10)")
struct WallboardPageTests {
    @Test func thePageAndItsFilesAreServedWithASameOriginPolicy() async throws {
        try await withAPI { (api: APITester) async throws in
            let expected = [
                "/": "text/html; charset=utf-8", "/wallboard.css": "text/css; charset=utf-8",
                "/wallboard.js": "text/javascript; charset=utf-8", "/favicon.svg": "image/svg+xml",
            ]
            for (path, contentType) in expected {
                // No token: the page is public; what it shows needs the token the user pastes.
                let reply = try await api.request(.get, path)
                #expect(reply.status == 200, "\(path)")
                #expect(reply.headers[.contentType] == contentType)
                #expect(reply.headers[.contentSecurityPolicy] == Wallboard.contentSecurityPolicy)
                #expect(reply.headers[.xContentTypeOptions] == "nosniff")
                #expect(reply.headers[.cacheControl] == "no-cache")
                let etag = try #require(reply.headers[.eTag])
                let again = try await api.request(.get, path, headers: [.ifNoneMatch: etag])
                #expect(again.status == 304 && again.text.isEmpty, "\(path)")
                #expect(try await api.request(.get, path, headers: [.ifNoneMatch: "\"other\""]).status == 200)
            }
            #expect(Wallboard.contentSecurityPolicy.hasPrefix("default-src 'self';"))
            #expect(try await api.request(.get, "/wallboard.json").status == 404)
            #expect(try await api.request(.post, "/", body: "{}").status == 405)
        }
    }

    /// The page works on a machine with no internet: nothing it loads comes from anywhere but the
    /// server, and the script keeps the token out of URLs and out of localStorage.
    @Test func thePageLoadsNothingFromElsewhere() throws {
        for file in Wallboard.files {
            let text = String(decoding: file.bytes, as: UTF8.self)
            let external = text.ranges(of: /(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/).map { String(text[$0]) }
            // The SVG's namespace is a name, not a request.
            #expect(external.allSatisfy { $0 == "http://www.w3.org" }, "\(file.path): \(external)")
            #expect(!text.contains("@import") && !text.contains("url("), "\(file.path)")
        }
        let script = String(
            decoding: try #require(Wallboard.files.first { $0.path == "/wallboard.js" }).bytes, as: UTF8.self)
        #expect(!script.contains("localStorage"))
        #expect(!script.contains("EventSource("))
        #expect(!script.contains("innerHTML"))
        #expect(!script.contains("oauth_token"))
    }
}
