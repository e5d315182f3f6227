import CIPDomain
import CIPTestSupport
import Testing

@Suite("Update a call in progress (SPEC 2.4)")
struct UpdateCallTests {
    static func body(_ inner: String) -> String { #"{"call_in_progress":{\#(inner)}}"# }

    @Test(arguments: StoreBackend.available) func setsExternalIDAndCustomDataWithPutAndPost(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            try await api.bridge("T1")
            let token = api.world.tokens.networkA
            let reply = try await api.update(
                api.networkA + "&transaction_id=T1",
                Self.body(
                    #""external_unique_id":"mycalls00001","custom_data":[{"name":"Call Disposition","value":"CUSTOMER_HANGUP"}]"#
                ),
                token: token)
            #expect(reply.status == 200)
            let call = try #require(reply.json["current_call"])
            #expect(call["external_unique_id"]?.stringValue == "mycalls00001")
            #expect(
                call["custom_data"]?["Call Disposition"]
                    == .object(["value": .string("CUSTOMER_HANGUP"), "source": .string("CallsInProgressAPI")]))
            let posted = try await api.update(
                api.networkA + "&external_unique_id=mycalls00001",
                Self.body(#""custom_data":[{"name":"Qualified","value":true}]"#), token: token, method: .post)
            #expect(posted.status == 200)
            let found = try await api.find(api.networkA + "&transaction_id=T1", token: token).calls.first
            #expect(found?["custom_data"]?["Qualified"]?["value"] == .bool(true))
            #expect(found?["custom_data"]?["Call Disposition"]?["value"]?.stringValue == "CUSTOMER_HANGUP")
            let plainPath = try await api.request(
                .put, "\(base)/calls_in_progress?\(api.networkA)&transaction_id=T1", token: token,
                body: Self.body(#""external_unique_id":"mycalls00002""#))
            #expect(plainPath.status == 200)
        }
    }

    @Test(arguments: StoreBackend.available) func valuesAreCoercedByFieldType(_ backend: StoreBackend) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            try await api.bridge("T1")
            let reply = try await api.update(
                api.networkA + "&transaction_id=T1",
                Self.body(
                    #""custom_data":[{"name":"Call Disposition","value":42},{"name":"Notes","value":1.5},{"name":"Qualified","value":"TRUE"},{"name":"Stage","value":"Won"}]"#
                ),
                token: api.world.tokens.networkA)
            let data = reply.json["current_call"]?["custom_data"]
            #expect(data?["Call Disposition"]?["value"]?.stringValue == "42")
            #expect(data?["Notes"]?["value"]?.stringValue == "1.5")
            #expect(data?["Qualified"]?["value"] == .bool(true))
            #expect(data?["Stage"]?["value"]?.stringValue == "Won")
        }
    }

    @Test(arguments: StoreBackend.available) func invalidUpdateChangesNothingAndNamesEveryOffendingPart(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            try await api.bridge("T1")
            let token = api.world.tokens.networkA
            let long = String(repeating: "x", count: 256)
            let reply = try await api.update(
                api.networkA + "&transaction_id=T1",
                Self.body(
                    #""external_unique_id":"new-id","custom_data":[{"name":"Call Disposition","value":"ok"},{"name":"Unknown","value":"x"},{"name":"Qualified","value":"maybe"},{"name":"Stage","value":"Lost"},{"name":"Notes","value":null},{"name":"utm_source","value":"\#(long)"}]"#
                ),
                token: token)
            #expect(reply.status == 403)
            #expect(reply.errors("custom_data.Unknown") == ["is not a custom data field of this network"])
            #expect(reply.errors("custom_data.Qualified") == ["must be true or false"])
            #expect(reply.errors("custom_data.Stage").count == 1)
            #expect(reply.errors("custom_data.Notes").count == 1)
            #expect(reply.errors("custom_data.utm_source") == ["must be at most 255 characters"])
            let call = try await api.find(api.networkA + "&transaction_id=T1", token: token).calls.first
            #expect(call?["external_unique_id"] == .null)
            #expect(call?["custom_data"] == .object([:]))
        }
    }

    @Test(arguments: StoreBackend.available) func bodyShapeErrorsAre403(_ backend: StoreBackend) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            try await api.bridge("T1")
            let token = api.world.tokens.networkA
            let query = api.networkA + "&transaction_id=T1"
            #expect(try await api.update(query, "{}", token: token).errors("call_in_progress") == ["is required"])
            #expect(try await api.update(query, Self.body(""), token: token).errors("call_in_progress").count == 1)
            #expect(
                try await api.update(query, Self.body(#""external_unique_id":"""#), token: token).errors(
                    "external_unique_id"
                ).count == 1)
            #expect(
                try await api.update(query, Self.body(#""external_unique_id":null"#), token: token).errors(
                    "external_unique_id"
                ).count == 1)
            #expect(
                try await api.update(
                    query, Self.body(#""external_unique_id":"\#(String(repeating: "e", count: 256))""#), token: token
                ).errors("external_unique_id") == ["must be at most 255 characters"])
            #expect(
                try await api.update(query, Self.body(#""custom_data":{"a":1}"#), token: token).errors("custom_data")
                    .count == 1)
            let tooMany = (0..<101).map { #"{"name":"f\#($0 % 50)","value":"v"}"# }.joined(separator: ",")
            #expect(
                try await api.update(query, Self.body(#""custom_data":[\#(tooMany)]"#), token: token).errors(
                    "custom_data") == ["must have at most 100 entries"])
            let noSelector = try await api.update(api.networkA, Self.body(#""external_unique_id":"x""#), token: token)
            #expect(noSelector.status == 403 && noSelector.errors("transaction_id").count == 1)
        }
    }

    @Test(arguments: StoreBackend.available) func externalIDIsUniqueAmongTheNetworksLiveCalls(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            try await api.bridge("T1")
            try await api.bridge("T2")
            let token = api.world.tokens.networkA
            #expect(
                try await api.update(
                    api.networkA + "&transaction_id=T1", Self.body(#""external_unique_id":"dup""#), token: token
                ).status == 200)
            let again = try await api.update(
                api.networkA + "&transaction_id=T1", Self.body(#""external_unique_id":"dup""#), token: token)
            #expect(again.status == 200)
            let conflict = try await api.update(
                api.networkA + "&transaction_id=T2",
                Self.body(#""external_unique_id":"dup","custom_data":[{"name":"Stage","value":"New"}]"#), token: token)
            #expect(conflict.status == 409)
            #expect(
                conflict.json
                    == .object(["errors": .object(["external_unique_id": .array([.string("has already been taken")])])])
            )
            // The conflicting update changed nothing, not even its valid custom data.
            let t2 = try await api.find(api.networkA + "&transaction_id=T2", token: token).calls.first
            #expect(t2?["custom_data"] == .object([:]))
            // A new value replaces the old one, freeing it.
            #expect(
                try await api.update(
                    api.networkA + "&transaction_id=T1", Self.body(#""external_unique_id":"other""#), token: token
                ).status == 200)
            #expect(
                try await api.update(
                    api.networkA + "&transaction_id=T2", Self.body(#""external_unique_id":"dup""#), token: token
                ).status == 200)
        }
    }

    @Test(arguments: StoreBackend.available) func updatesOfCallsNotInProgressAre404(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            try await api.bridge("T1", advertiser: api.world.advertiserA1.id)
            try await api.bridge("GONE")
            try await api.end("GONE")
            let token = api.world.tokens.networkA
            let body = Self.body(#""external_unique_id":"x""#)
            for query in [
                "transaction_id=NOPE", "transaction_id=GONE", "external_unique_id=unknown",
                "transaction_id=T1&external_unique_id=mismatch",
            ] {
                let reply = try await api.update(api.networkA + "&" + query, body, token: token)
                #expect(reply.status == 404, "\(query)")
                #expect(reply.json == .object(["error": .string("RecordNotFound")]))
            }
            // Another advertiser's call is not found either, even for a token that may act for it.
            let a2 = "id=\(api.world.advertiserA2.id)&organization_type=advertiser&transaction_id=T1"
            #expect(try await api.update(a2, body, token: token).status == 404)
        }
    }

    @Test(arguments: StoreBackend.available) func repeatingAnUpdateGivesTheSameResultAndState(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            try await api.bridge("T1")
            let query = api.networkA + "&transaction_id=T1"
            let body = Self.body(#""external_unique_id":"r1","custom_data":[{"name":"Stage","value":"New"}]"#)
            let first = try await api.update(query, body, token: api.world.tokens.networkA)
            let second = try await api.update(query, body, token: api.world.tokens.networkA)
            #expect(first.status == 200 && first.text == second.text)
        }
    }

    @Test(arguments: StoreBackend.available) func fieldsOfAnotherNetworkAreNotAccepted(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            try await api.events(
                #"{"event":"call_bridged","transaction_id":"B1","network_id":\#(api.world.networkB.id),"occurred_at":"2022-12-10T13:49:00Z","calling_phone_number":"+15309999999","destination_phone_number":"+18555595599"}"#
            )
            let query = "id=\(api.world.networkB.id)&organization_type=network&transaction_id=B1"
            let reply = try await api.update(
                query, Self.body(#""custom_data":[{"name":"Stage","value":"New"}]"#), token: api.world.tokens.networkB)
            #expect(
                reply.status == 403
                    && reply.errors("custom_data.Stage") == ["is not a custom data field of this network"])
        }
    }
}
