import CIPDomain
import CIPHTTP
import CIPStore
import CIPTestSupport
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore

let base = "/api/2022-08-01"

/// A response as the tests read it.
struct Reply: Sendable {
    let status: Int
    let headers: HTTPFields
    let text: String
    var json: JSONValue { JSONValue.parse(text) ?? .null }
    var calls: [JSONValue] { json["current_calls"]?.arrayValue ?? [] }
    var results: [JSONValue] { json["results"]?.arrayValue ?? [] }
    var statuses: [String] { results.compactMap { $0["status"]?.stringValue } }
    func errors(_ key: String) -> [String] { json["errors"]?[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }
}

/// Drives the real router over a real SQLite store, with helpers that keep each test short.
struct APITester: Sendable {
    let client: any TestClientProtocol
    let world: Fixture

    func request(
        _ method: HTTPRequest.Method, _ uri: String, token: String? = nil, body: String? = nil,
        contentType: String? = "application/json", headers extra: HTTPFields = [:]
    ) async throws -> Reply {
        var headers = extra
        if let token { headers[.authorization] = token }
        if body != nil, let contentType { headers[.contentType] = contentType }
        let response = try await client.executeRequest(
            uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
        return Reply(status: Int(response.status.code), headers: response.headers, text: String(buffer: response.body))
    }

    /// `GET current_calls` with `query` appended to the path.
    func find(_ query: String, token: String?) async throws -> Reply {
        try await request(.get, "\(base)/calls_in_progress/current_calls.json?\(query)", token: token)
    }

    /// `PUT calls_in_progress` with `query` and a JSON `body`.
    func update(
        _ query: String, _ body: String, token: String?, method: HTTPRequest.Method = .put
    ) async throws -> Reply {
        try await request(method, "\(base)/calls_in_progress.json?\(query)", token: token, body: body)
    }

    @discardableResult
    func events(_ body: String, token: String? = nil) async throws -> Reply {
        try await request(
            .post, "\(base)/telephony/call_events.json", token: token ?? world.tokens.telephony, body: body)
    }

    /// Posts events with exactly `tokenOverride` (nil sends none).
    func events(_ body: String, tokenOverride: String?) async throws -> Reply {
        try await request(.post, "\(base)/telephony/call_events.json", token: tokenOverride, body: body)
    }

    /// Posts one `call_bridged` for network A; `extra` is spliced into the event object.
    @discardableResult
    func bridge(
        _ transactionID: String, advertiser: Int64? = nil, calling: String = "530-999-9999",
        destination: String = "855-559-5599", at time: String = "2022-12-10T13:49:00.000Z", extra: String = ""
    ) async throws -> Reply {
        let advertiserPart = advertiser.map { #","advertiser_id":\#($0)"# } ?? ""
        let reply = try await events(
            """
            {"event":"call_bridged","transaction_id":"\(transactionID)","network_id":\(world.networkA.id)\(advertiserPart),
             "occurred_at":"\(time)","calling_phone_number":"\(calling)","destination_phone_number":"\(destination)"\(extra)}
            """)
        return reply
    }

    @discardableResult
    func end(_ transactionID: String, at time: String = "2022-12-10T14:00:00.000Z") async throws -> Reply {
        try await events(
            #"{"event":"call_ended","transaction_id":"\#(transactionID)","network_id":\#(world.networkA.id),"occurred_at":"\#(time)"}"#
        )
    }

    var networkA: String { "id=\(world.networkA.id)&organization_type=network" }
    var advertiserA1: String { "id=\(world.advertiserA1.id)&organization_type=advertiser" }
}

/// Runs `test` against a fresh world and the real router.
func withAPI(
    backend: StoreBackend = .sqlite, settings: APISettings = APISettings(), setup: TestingSetup = .router,
    _ test: @escaping @Sendable (APITester) async throws -> Void
) async throws {
    let world = try await Fixture.make(on: backend)
    let app = Application(
        router: buildRouter(services: APIServices(store: world.store, settings: settings)), logger: quietTestLogger)
    try await app.test(setup) { client in
        try await test(APITester(client: client, world: world))
    }
}
