import CIPDomain
import CIPHTTP
import CIPStore
import CIPTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Error statuses, bodies and their order (SPEC 2.5, 3)")
struct ErrorResponseTests {
    static let update = #"{"call_in_progress":{"external_unique_id":"x"}}"#

    @Test(arguments: StoreBackend.available) func unknownVersionsAndPathsAre404(_ backend: StoreBackend) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            let token = api.world.tokens.networkA
            for path in [
                "/api/2023-01-01/calls_in_progress/current_calls.json?\(api.networkA)", "/api/2022-08-01/nothing",
                "/nothing",
            ] {
                let reply = try await api.request(.get, path, token: token)
                #expect(reply.status == 404, "\(path)")
                #expect(reply.json == .object(["error": .string("RecordNotFound")]))
            }
            // The path is checked before the token.
            #expect(
                try await api.request(.get, "/api/1999-01-01/calls_in_progress/current_calls.json", token: nil).status
                    == 404)
            #expect(
                try await api.request(.put, "/api/1999-01-01/calls_in_progress.json", token: nil, body: "{").status
                    == 404)
        }
    }

    @Test func aPathAskedWithAMethodItDoesNotHaveIs405WithAllow() async throws {
        try await withAPI { (api: APITester) async throws in
            let cases: [(HTTPRequest.Method, String, String)] = [
                (.delete, "\(base)/calls_in_progress.json", "PUT, POST"),
                (.get, "\(base)/calls_in_progress", "PUT, POST"),
                (.post, "\(base)/calls_in_progress/current_calls.json", "GET"),
                (.put, "\(base)/telephony/call_events.json", "POST"),
                (.delete, "/health", "GET"),
            ]
            for (method, path, allowed) in cases {
                let reply = try await api.request(method, path, token: api.world.tokens.networkA)
                #expect(reply.status == 405, "\(method) \(path)")
                #expect(reply.headers[.allow] == allowed)
                #expect(reply.json == .object(["error": .string("MethodNotAllowed")]))
            }
            // An unknown version is still no path at all.
            #expect(try await api.request(.delete, "/api/1999-01-01/calls_in_progress.json").status == 404)
        }
    }

    /// A path spelled exactly as a route is found by `APIRouter`'s own lookup; one the router
    /// normalizes (a trailing or doubled slash) by Hummingbird's router. Both answer alike.
    @Test func exactAndNormalizedPathsAnswerAlike() async throws {
        try await withAPI { (api: APITester) async throws in
            try await api.bridge("T1")
            let token = api.world.tokens.networkA
            let exact = try await api.request(
                .get, "\(base)/calls_in_progress/current_calls.json?\(api.networkA)", token: token)
            #expect(exact.status == 200)
            for path in [
                "\(base)/calls_in_progress/current_calls.json/", "\(base)//calls_in_progress/current_calls.json",
            ] {
                let routed = try await api.request(.get, "\(path)?\(api.networkA)", token: token)
                #expect(routed.status == exact.status, "\(path)")
                #expect(routed.json == exact.json, "\(path)")
                #expect(routed.headers[.eTag] == exact.headers[.eTag], "\(path)")
                #expect(try await api.request(.delete, path, token: token).status == 405, "\(path)")
            }
            #expect(try await api.request(.get, "/health/").status == 200)
            #expect(try await api.request(.get, "/Health").status == 404)
        }
    }

    @Test(arguments: StoreBackend.available) func malformedBodiesAre400(_ backend: StoreBackend) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            let query = api.networkA + "&transaction_id=T1"
            let token = api.world.tokens.networkA
            for body in ["{not json", "[1,2]", "\"text\"", ""] {
                let reply = try await api.update(query, body, token: token)
                #expect(reply.status == 400, "\(body)")
                #expect(reply.errors("body").count == 1)
            }
            let noContentType = try await api.request(
                .put, "\(base)/calls_in_progress.json?\(query)", token: token, body: "{x", contentType: nil)
            #expect(noContentType.status == 400)
        }
    }

    @Test(arguments: StoreBackend.available) func nonJSONBodiesAre415(_ backend: StoreBackend) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            let reply = try await api.request(
                .put, "\(base)/calls_in_progress.json?\(api.networkA)&transaction_id=T1",
                token: api.world.tokens.networkA,
                body: "a=b", contentType: "application/x-www-form-urlencoded")
            #expect(reply.status == 415)
            #expect(reply.errors("body") == ["must be application/json"])
            let charset = try await api.request(
                .post, "\(base)/telephony/call_events.json", token: api.world.tokens.telephony, body: "{}",
                contentType: "application/json; charset=utf-8")
            #expect(charset.status == 200)
        }
    }

    @Test(arguments: StoreBackend.available) func oversizedBodiesAre413(_ backend: StoreBackend) async throws {
        try await withAPI(backend: backend, settings: APISettings(maxBodyBytes: 1024), setup: .live) {
            (api: APITester) async throws in
            let padding = String(repeating: "x", count: 2048)
            let body = #"{"call_in_progress":{"external_unique_id":"\#(padding)"}}"#
            let reply = try await api.update(
                api.networkA + "&transaction_id=T1", body, token: api.world.tokens.networkA)
            #expect(reply.status == 413)
            #expect(reply.errors("body") == ["is too large"])
        }
    }

    @Test(arguments: StoreBackend.available) func defaultBodyLimitIsOneMebibyte(_ backend: StoreBackend) async throws {
        try await withAPI(backend: backend, setup: .live) { (api: APITester) async throws in
            let padding = String(repeating: "x", count: 1 << 20)
            let reply = try await api.events(#"{"events":[],"pad":"\#(padding)"}"#)
            #expect(reply.status == 413)
            let fits = try await api.events(#"{"events":[],"pad":"\#(String(repeating: "x", count: 1000))"}"#)
            #expect(fits.status == 200)
        }
    }

    @Test(arguments: StoreBackend.available) func checksRunInSPECOrder(_ backend: StoreBackend) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            let tokens = api.world.tokens
            // No token beats a bad body and bad params.
            #expect(try await api.update("", "{", token: nil).status == 401)
            // A valid token: the body is checked before the params.
            #expect(try await api.update("", "{", token: tokens.networkB).status == 400)
            // Params before the organization check: bad params with a foreign token are 403.
            #expect(
                try await api.update("id=abc&organization_type=network", Self.update, token: tokens.networkB).status
                    == 403)
            // The organization check before the call lookup: 401, not 404.
            #expect(
                try await api.update(api.networkA + "&transaction_id=NOPE", Self.update, token: tokens.networkB).status
                    == 401)
            // Scope before the call lookup.
            #expect(
                try await api.update(api.networkA + "&transaction_id=NOPE", Self.update, token: tokens.networkARead)
                    .status == 401)
            #expect(
                try await api.update(api.networkA + "&transaction_id=NOPE", Self.update, token: tokens.networkA).status
                    == 404)
        }
    }

    @Test(arguments: StoreBackend.available) func rateLimitedTokensGet429WithRetryAfter(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend, settings: APISettings(rateLimit: 2)) { (api: APITester) async throws in
            // Until the first 429: ten requests in a row took more than the four seconds that refill
            // the bucket once, on a machine loaded by the whole suite; 200 would take 100 s.
            var replies: [Reply] = []
            while replies.count < 200, replies.last?.status != 429 {
                replies.append(try await api.find(api.networkA, token: api.world.tokens.networkA))
            }
            #expect(replies.prefix(2).allSatisfy { $0.status == 200 })
            let limited = try #require(replies.first { $0.status == 429 })
            #expect(limited.json == .object(["error": .string("RateLimited")]))
            #expect(limited.headers[.retryAfter] == "1")
            // Limits are per token.
            #expect(try await api.find(api.networkA, token: api.world.tokens.networkARead).status == 200)
        }
    }

    @Test(arguments: StoreBackend.available) func rateLimitIsOffUnlessConfigured(_ backend: StoreBackend) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            for _ in 0..<50 {
                #expect(try await api.find(api.networkA, token: api.world.tokens.networkA).status == 200)
            }
        }
    }

    @Test func faultsAre500WithAnErrorHandle() async throws {
        let folder = try TemporaryFolder.make()
        let path = folder.appendingPathComponent("broken.sqlite").path
        let database = try SQLiteDatabase(path: path)
        try await database.migrate()
        let store = try await database.serve()
        let network = try await store.createNetwork(name: "N", country: "US")
        let text = "cip_fault"
        _ = try await store.createToken(
            hash: TokenHash(of: text), kind: .organization, organization: .init(type: .network, id: network.id),
            scope: .write, description: nil, createdAt: .now())
        let bridge = CallEvent(
            kind: .bridged, transactionID: "T1", networkID: network.id, advertiserID: nil, occurredAt: .now(),
            callStart: nil,
            callingPhoneNumber: "+15309999999", destinationPhoneNumber: "+18555595599", status: nil, attributes: [:],
            customData: [])
        _ = try await store.apply([bridge], receivedAt: .now())
        // Break the database under the running service: a real fault, not a mock. Reads are answered
        // from memory, so the update's write is what meets it.
        let sqlite = Process()
        sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        sqlite.arguments = [path, "DROP TABLE call_changes;"]
        try sqlite.run()
        sqlite.waitUntilExit()
        let app = Hummingbird.Application(
            router: buildRouter(services: APIServices(store: store, settings: APISettings())), logger: quietTestLogger)
        try await app.test(.router) { client in
            let response = try await client.executeRequest(
                uri: "\(base)/calls_in_progress.json?id=\(network.id)&organization_type=network&transaction_id=T1",
                method: .put, headers: [.authorization: text, .contentType: "application/json"],
                body: ByteBuffer(string: #"{"call_in_progress": {"external_unique_id": "E1"}}"#))
            #expect(response.status.code == 500)
            let json = JSONValue.parse(String(buffer: response.body))
            #expect(json?["errors"]?["class"]?.stringValue == "InternalServiceError")
            #expect(json?["errors"]?["invalid_data"]?.stringValue?.hasPrefix("refer to error handle ") == true)
        }
    }
}
