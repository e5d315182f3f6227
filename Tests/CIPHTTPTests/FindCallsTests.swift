import CIPDomain
import CIPTestSupport
import Testing

@Suite("Find calls in progress (SPEC 2.2, 2.3, 2.6)")
struct FindCallsTests {
    @Test(arguments: StoreBackend.available) func networkSeesAllItsCallsAdvertiserOnlyItsOwn(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            try await api.bridge("A1-1", advertiser: api.world.advertiserA1.id)
            try await api.bridge("A2-1", advertiser: api.world.advertiserA2.id)
            try await api.bridge("NONE")
            let network = try await api.find(api.networkA, token: api.world.tokens.networkA)
            #expect(network.status == 200 && network.calls.count == 3)
            let advertiser = try await api.find(api.advertiserA1, token: api.world.tokens.advertiserA1)
            #expect(advertiser.calls.compactMap { $0["transaction_id"]?.stringValue } == ["A1-1"])
        }
    }

    @Test(arguments: StoreBackend.available) func callsAreOrderedByTransferTimeThenTransactionID(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            try await api.bridge("b", at: "2022-12-10T13:00:00.000Z")
            try await api.bridge("a", at: "2022-12-10T13:00:00.000Z")
            try await api.bridge("c", at: "2022-12-10T14:00:00.000Z")
            try await api.bridge("d", at: "2022-12-10T12:00:00.000Z")
            let reply = try await api.find(api.networkA, token: api.world.tokens.networkA)
            #expect(reply.calls.compactMap { $0["transaction_id"]?.stringValue } == ["c", "a", "b", "d"])
        }
    }

    @Test(arguments: StoreBackend.available) func filtersCombineWithAnd(_ backend: StoreBackend) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            try await api.bridge("T1", calling: "(530) 999-9999", destination: "855-559-5599")
            try await api.bridge("T2", calling: "530-222-3333", destination: "855-559-5599")
            _ = try await api.update(
                api.networkA + "&transaction_id=T1", #"{"call_in_progress":{"external_unique_id":"ext-1"}}"#,
                token: api.world.tokens.networkA)
            let token = api.world.tokens.networkA
            func ids(_ query: String) async throws -> [String] {
                try await api.find(api.networkA + "&" + query, token: token).calls.compactMap {
                    $0["transaction_id"]?.stringValue
                }
            }
            #expect(try await ids("transaction_id=T2") == ["T2"])
            #expect(try await ids("external_unique_id=ext-1") == ["T1"])
            #expect(try await ids("external_unique_id=ext-1&transaction_id=T2") == [])
            #expect(try await ids("calling_phone_number=5309999999&destination_phone_number=%2B18555595599") == ["T1"])
            #expect(
                try await ids(
                    "calling_phone_number=1-530-222-3333&destination_phone_number=(855)%20559-5599&transaction_id=T2")
                    == ["T2"])
            #expect(try await ids("transaction_id=nope") == [])
            // As forms encode them: `+` is a space, names may be escaped too, empty parts are skipped,
            // a name given twice keeps its first value.
            #expect(try await ids("calling_phone_number=530+999+9999&destination_phone_number=855+559+5599") == ["T1"])
            #expect(try await ids("%74ransaction_id=T2") == ["T2"])
            #expect(try await ids("&&transaction_id=T1&&") == ["T1"])
            #expect(try await ids("transaction_id=T1&transaction_id=T2") == ["T1"])
            #expect(try await ids("transaction_id=T%31") == ["T1"])
        }
    }

    @Test(
        arguments: StoreBackend.available,
        ["8555595599", "855-559-5599", "+18555595599", "18555595599", "(855)%20559.5599", "1%20855%20559%205599"])
    func phoneNumbersMatchInAnyCommonFormat(_ backend: StoreBackend, _ destination: String) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            try await api.bridge("T1", calling: "+1 530 999 9999", destination: "8555595599")
            let reply = try await api.find(
                api.networkA + "&calling_phone_number=530.999.9999&destination_phone_number=\(destination)",
                token: api.world.tokens.networkA)
            #expect(reply.calls.count == 1)
        }
    }

    @Test(arguments: StoreBackend.available) func networkDefaultCountryAppliesToNationalNumbers(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            let network = api.world.networkB
            let reply = try await api.events(
                #"{"event":"call_bridged","transaction_id":"UK1","network_id":\#(network.id),"occurred_at":"2022-12-10T13:49:00Z","calling_phone_number":"07700 900123","destination_phone_number":"020 7946 0958"}"#
            )
            #expect(reply.statuses == ["applied"])
            let found = try await api.find(
                "id=\(network.id)&organization_type=network&calling_phone_number=%2B447700900123&destination_phone_number=02079460958",
                token: api.world.tokens.networkB)
            #expect(found.calls.first?["destination_phone_number"]?.stringValue == "+442079460958")
        }
    }

    @Test(arguments: StoreBackend.available) func organizationTypeIsCaseInsensitiveAndJSONSuffixOptional(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            try await api.bridge("T1")
            let token = api.world.tokens.networkA
            #expect(
                try await api.find("id=\(api.world.networkA.id)&organization_type=Network", token: token).calls.count
                    == 1)
            let plain = try await api.request(
                .get, "\(base)/calls_in_progress/current_calls?\(api.networkA)", token: token)
            #expect(plain.status == 200 && plain.calls.count == 1)
        }
    }

    @Test(arguments: StoreBackend.available) func noMatchIsAnEmptyList(_ backend: StoreBackend) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            let reply = try await api.find(api.networkA, token: api.world.tokens.networkA)
            #expect(reply.status == 200 && reply.text == #"{"current_calls":[]}"#)
            #expect(reply.headers[.contentType] == "application/json; charset=utf-8")
        }
    }

    @Test(arguments: StoreBackend.available) func invalidParamsAre403NamingEachParam(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            let token = api.world.tokens.networkA
            let missing = try await api.find("", token: token)
            #expect(missing.status == 403)
            #expect(missing.errors("id") == ["is required"] && missing.errors("organization_type") == ["is required"])
            let bad = try await api.find("id=-1&organization_type=agency", token: token)
            #expect(bad.errors("id") == ["must be a positive integer"])
            #expect(bad.errors("organization_type") == ["must be network or advertiser"])
            let half = try await api.find(api.networkA + "&calling_phone_number=5309999999", token: token)
            #expect(half.status == 403 && half.errors("destination_phone_number").count == 1)
            let unreadable = try await api.find(
                api.networkA + "&calling_phone_number=abc&destination_phone_number=123", token: token)
            #expect(unreadable.errors("calling_phone_number") == ["is not a valid phone number"])
            #expect(unreadable.errors("destination_phone_number") == ["is not a valid phone number"])
            let badID = try await api.find(api.networkA + "&transaction_id=has_underscore", token: token)
            #expect(badID.status == 403 && badID.errors("transaction_id").count == 1)
        }
    }

    @Test(arguments: StoreBackend.available) func callObjectHasEveryRequiredFieldAndOnlyKnownOptionalOnes(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            try await api.bridge("T1")
            try await api.bridge(
                "T2", advertiser: api.world.advertiserA1.id, at: "2022-12-10T13:50:00.000Z",
                extra:
                    #","call_start_time_utc":"2022-12-10T13:45:00.5Z","called_phone_number":"855-717-4046","advertiser_campaign_id":"SampleCampaignID-123","city":"Davis","custom_data":[{"name":"utm_source","value":"google.com","source":"DynamicAttribution"}]"#
            )
            let calls = try await api.find(api.networkA, token: api.world.tokens.networkA).calls
            let full = try #require(calls.first)
            #expect(full["transaction_id"]?.stringValue == "T2")
            #expect(full["call_status"]?.stringValue == "bridged")
            #expect(full["external_unique_id"] == .null)
            #expect(full["calling_phone_number"]?.stringValue == "+15309999999")
            #expect(full["destination_phone_number"]?.stringValue == "+18555595599")
            #expect(full["call_start_time_utc"]?.stringValue == "2022-12-10T13:45:00.500Z")
            #expect(full["transfer_start_time_utc"]?.stringValue == "2022-12-10T13:50:00.000Z")
            #expect(full["called_phone_number"]?.stringValue == "+18557174046")
            #expect(full["advertiser_id"] == .integer(api.world.advertiserA1.id))
            #expect(full["advertiser_name"]?.stringValue == "A1")
            #expect(full["advertiser_id_from_network"]?.stringValue == "ext-a1")
            #expect(full["advertiser_campaign_id"]?.stringValue == "SampleCampaignID-123")
            #expect(full["city"]?.stringValue == "Davis")
            #expect(
                full["custom_data"]
                    == .object([
                        "utm_source": .object(["value": .string("google.com"), "source": .string("DynamicAttribution")])
                    ]))
            #expect(full["version"] == .integer(1))

            let bare = try #require(calls.last?.objectValue)
            #expect(
                Set(bare.keys) == [
                    "transaction_id", "call_status", "external_unique_id", "calling_phone_number",
                    "destination_phone_number", "call_start_time_utc", "transfer_start_time_utc", "custom_data",
                    "version",
                ])
            #expect(bare["version"] == .integer(1))
            #expect(bare["custom_data"] == .object([:]))
            #expect(bare["call_start_time_utc"] == bare["transfer_start_time_utc"])
        }
    }

    @Test(arguments: StoreBackend.available) func callerIDsThatAreNotNumbersAreKeptAsReported(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            let reply = try await api.bridge("T1", calling: "  anonymous ")
            #expect(reply.statuses == ["applied"])
            let call = try await api.find(api.networkA, token: api.world.tokens.networkA).calls.first
            #expect(call?["calling_phone_number"]?.stringValue == "anonymous")
        }
    }
}
