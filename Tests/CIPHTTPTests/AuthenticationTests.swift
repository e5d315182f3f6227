import CIPDomain
import CIPTestSupport
import Foundation
import HTTPTypes
import Testing

@Suite("Authentication and access (SPEC 2.1)")
struct AuthenticationTests {
    @Test(arguments: StoreBackend.available) func tokenIsAcceptedInHeaderBearerQueryAndBody(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            try await api.bridge("T1")
            let token = api.world.tokens.networkA
            #expect(try await api.find(api.networkA, token: token).calls.count == 1)
            #expect(try await api.find(api.networkA, token: "Bearer \(token)").calls.count == 1)
            // Any case of "Bearer", and the spaces and tabs HTTP allows around the value.
            #expect(try await api.find(api.networkA, token: "bEARER \t \(token)\t ").calls.count == 1)
            #expect(try await api.find(api.networkA, token: " \t\(token) ").calls.count == 1)
            #expect(try await api.find(api.networkA, token: "Bearer\t\(token)").status == 401)
            #expect(try await api.find(api.networkA, token: "Bearer").status == 401)
            #expect(try await api.find(api.networkA + "&oauth_token=\(token)", token: nil).calls.count == 1)
            let body = #"{"oauth_token":"\#(token)","call_in_progress":{"external_unique_id":"x1"}}"#
            let reply = try await api.update(api.networkA + "&transaction_id=T1", body, token: nil)
            #expect(reply.status == 200)
            #expect(reply.json["current_call"]?["external_unique_id"]?.stringValue == "x1")
        }
    }

    /// `Authorization` is one field (RFC 9110 11.6.2): sent twice, even with the same good token, the
    /// values are read joined, as HTTP joins repeated fields, and that is no token.
    @Test func twoAuthorizationFieldsAreNoToken() async throws {
        try await withAPI(backend: .sqlite) { (api: APITester) async throws in
            let good = api.world.tokens.networkA
            var twice = HTTPFields()
            twice.append(HTTPField(name: .authorization, value: good))
            twice.append(HTTPField(name: .authorization, value: good))
            let path = "\(base)/calls_in_progress/current_calls.json?\(api.networkA)"
            #expect(try await api.request(.get, path, headers: twice).status == 401)
            #expect(try await api.request(.get, path, token: good).status == 200)
        }
    }

    @Test(arguments: StoreBackend.available) func headerIsCheckedBeforeQueryAndBody(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            let good = api.world.tokens.networkA
            let reply = try await api.find(api.networkA + "&oauth_token=\(good)", token: "not-a-token")
            #expect(reply.status == 401)
        }
    }

    @Test(arguments: StoreBackend.available, ["missing", "unknown", "revoked", "telephony"])
    func unusableTokensAreRefused(_ backend: StoreBackend, _ kind: String) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            let token: String? =
                switch kind {
                case "missing": nil
                case "unknown": "cip_nonsense"
                case "revoked": api.world.tokens.revoked
                default: api.world.tokens.telephony
                }
            let reply = try await api.find(api.networkA, token: token)
            #expect(reply.status == 401)
            #expect(reply.json == .object(["error": .string("NotAuthorized")]))
        }
    }

    @Test(arguments: StoreBackend.available) func networkTokensActForTheirAdvertisersButNotOthers(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            try await api.bridge("T1", advertiser: api.world.advertiserA1.id)
            let tokens = api.world.tokens
            #expect(try await api.find(api.advertiserA1, token: tokens.networkA).calls.count == 1)
            #expect(try await api.find(api.networkA, token: tokens.networkB).status == 401)
            #expect(try await api.find(api.advertiserA1, token: tokens.networkB).status == 401)
            // A missing organization answers exactly like a forbidden one.
            let missing = try await api.find("id=9999&organization_type=network", token: tokens.networkA)
            #expect(missing.status == 401 && missing.json["error"]?.stringValue == "NotAuthorized")
        }
    }

    @Test(arguments: StoreBackend.available) func advertiserTokensActOnlyForThemselves(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            let tokens = api.world.tokens
            #expect(try await api.find(api.advertiserA1, token: tokens.advertiserA1).status == 200)
            #expect(try await api.find(api.networkA, token: tokens.advertiserA1).status == 401)
            #expect(
                try await api.find(
                    "id=\(api.world.advertiserA2.id)&organization_type=advertiser", token: tokens.advertiserA1
                ).status == 401)
        }
    }

    @Test(arguments: StoreBackend.available) func readTokensCannotUpdate(_ backend: StoreBackend) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            try await api.bridge("T1", advertiser: api.world.advertiserA1.id)
            let body = #"{"call_in_progress":{"external_unique_id":"x"}}"#
            #expect(try await api.find(api.networkA, token: api.world.tokens.networkARead).status == 200)
            #expect(
                try await api.update(api.networkA + "&transaction_id=T1", body, token: api.world.tokens.networkARead)
                    .status == 401)
            #expect(
                try await api.update(
                    api.advertiserA1 + "&transaction_id=T1", body, token: api.world.tokens.advertiserA1Read
                ).status == 401)
            #expect(
                try await api.update(
                    api.advertiserA1 + "&transaction_id=T1", body, token: api.world.tokens.advertiserA1
                ).status == 200)
        }
    }

    @Test(arguments: StoreBackend.available) func organizationTokensCannotFeedTelephonyEvents(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            let event =
                #"{"event":"call_ended","transaction_id":"T1","network_id":1,"occurred_at":"2022-12-10T13:49:00Z"}"#
            #expect(try await api.events(event, token: api.world.tokens.networkA).status == 401)
            #expect(try await api.events(event, token: "nonsense").status == 401)
            #expect(try await api.events(event).status == 200)
        }
    }

    @Test(arguments: StoreBackend.available) func revocationTakesEffectWithinOneSecond(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            let token = api.world.tokens.networkA
            #expect(try await api.find(api.networkA, token: token).status == 200)
            let id = try #require(try await api.world.store.token(hash: TokenHash(of: token))).id
            _ = try await api.world.store.revokeToken(id: id)
            try await Task.sleep(for: .seconds(1))
            #expect(try await api.find(api.networkA, token: token).status == 401)
        }
    }

    @Test(arguments: StoreBackend.available) func tokensAreStoredOnlyAsHashes(_ backend: StoreBackend) async throws {
        let world = try await Fixture.make(on: backend)
        for record in try await world.store.listTokens() {
            #expect(record.hash.hex.count == 64)
            #expect(record.hash.hex != world.tokens.networkA)
        }
        #expect(try await world.store.token(hash: TokenHash(hex: world.tokens.networkA)) == nil)
    }
}
