import CIPDomain
import CIPTestSupport
import Testing

@Suite("Telephony feed (SPEC 4)")
struct TelephonyFeedTests {
    static func event(
        _ kind: String, _ transactionID: String, network: Int64, at time: String, _ extra: String = ""
    ) -> String {
        #"{"event":"\#(kind)","transaction_id":"\#(transactionID)","network_id":\#(network),"occurred_at":"\#(time)"\#(extra)}"#
    }

    static let phones = #","calling_phone_number":"530-999-9999","destination_phone_number":"855-559-5599""#

    @Test(arguments: StoreBackend.available) func seedExampleIsApplied(_ backend: StoreBackend) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            let reply = try await api.events(
                """
                {"event":"call_bridged","transaction_id":"01FMTK644Z9D-3FPEY1REX8JSZB","network_id":\(api.world.networkA.id),
                 "advertiser_id":\(api.world.advertiserA1.id),"occurred_at":"2022-12-10T13:49:00.000Z",
                 "call_start_time_utc":"2022-12-10T13:45:00.000Z","calling_phone_number":"530-999-9999",
                 "destination_phone_number":"855-559-5599","called_phone_number":"855-717-4046",
                 "advertiser_campaign_id":"SampleCampaignID-123",
                 "custom_data":[{"name":"utm_source","value":"google.com","source":"DynamicAttribution"}]}
                """)
            #expect(reply.status == 200)
            #expect(
                reply.json
                    == .object([
                        "results": .array([
                            .object([
                                "transaction_id": .string("01FMTK644Z9D-3FPEY1REX8JSZB"), "status": .string("applied"),
                            ])
                        ])
                    ]))
        }
    }

    @Test(arguments: StoreBackend.available) func batchesAnswerOneResultPerEventInOrder(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            let net = api.world.networkA.id
            let events = [
                Self.event("call_bridged", "T1", network: net, at: "2022-12-10T13:00:00Z", Self.phones),
                Self.event("call_bridged", "T1", network: net, at: "2022-12-10T13:00:00Z", Self.phones),
                Self.event(
                    "call_updated", "T1", network: net, at: "2022-12-10T12:00:00Z", #","call_status":"on_hold""#),
                Self.event("call_bridged", "T2", network: 9999, at: "2022-12-10T13:00:00Z", Self.phones),
                Self.event(
                    "call_updated", "T1", network: net, at: "2022-12-10T13:01:00Z",
                    #","call_status":"on_hold","custom_data":[{"name":"Stage","value":"New","source":"Ivr"}]"#),
            ]
            let reply = try await api.events(#"{"events":[\#(events.joined(separator: ","))]}"#)
            #expect(reply.status == 200)
            #expect(reply.statuses == ["applied", "duplicate", "ignored", "rejected", "applied"])
            #expect(reply.results.map { $0["transaction_id"]?.stringValue } == ["T1", "T1", "T1", "T2", "T1"])
            #expect(reply.results[3]["errors"]?["network_id"] != nil)
            #expect(reply.results[0]["errors"] == nil)
            let call = try await api.find(api.networkA, token: api.world.tokens.networkA).calls.first
            #expect(call?["call_status"]?.stringValue == "on_hold")
            #expect(call?["custom_data"]?["Stage"] == .object(["value": .string("New"), "source": .string("Ivr")]))
        }
    }

    @Test(arguments: StoreBackend.available) func endedCallsDisappearAndStayEnded(_ backend: StoreBackend) async throws
    {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            let net = api.world.networkA.id
            try await api.bridge("T1", at: "2022-12-10T13:00:00Z")
            #expect(try await api.end("T1", at: "2022-12-10T13:05:00Z").statuses == ["applied"])
            #expect(try await api.find(api.networkA, token: api.world.tokens.networkA).calls.isEmpty)
            #expect(try await api.bridge("T1", at: "2022-12-10T13:10:00Z").statuses == ["ignored"])
            #expect(
                try await api.events(
                    Self.event(
                        "call_updated", "T1", network: net, at: "2022-12-10T13:11:00Z", #","call_status":"on_hold""#)
                ).statuses == ["ignored"])
            #expect(try await api.end("T1", at: "2022-12-10T13:05:00Z").statuses == ["duplicate"])
            #expect(try await api.find(api.networkA, token: api.world.tokens.networkA).calls.isEmpty)
        }
    }

    @Test(arguments: StoreBackend.available) func anEndBeforeItsBridgeIsRecordedSoTheBridgeIsIgnored(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            #expect(try await api.end("LATE", at: "2022-12-10T13:05:00Z").statuses == ["applied"])
            #expect(try await api.bridge("LATE", at: "2022-12-10T13:00:00Z").statuses == ["ignored"])
            #expect(try await api.find(api.networkA, token: api.world.tokens.networkA).calls.isEmpty)
        }
    }

    @Test(arguments: StoreBackend.available) func rejectedEventsSayWhyAndDoNotStopOthers(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            let net = api.world.networkA.id
            let events = [
                Self.event(
                    "call_bridged", "R1", network: net, at: "2022-12-10T13:00:00Z",
                    #","calling_phone_number":"530-999-9999","destination_phone_number":"12""#),
                Self.event(
                    "call_bridged", "R2", network: net, at: "2022-12-10T13:00:00Z",
                    Self.phones + #","advertiser_id":\#(api.world.advertiserB1.id)"#),
                Self.event(
                    "call_bridged", "R3", network: net, at: "2022-12-10T13:00:00Z",
                    Self.phones + #","custom_data":[{"name":"Qualified","value":"perhaps"}]"#),
                Self.event("call_bridged", "R4", network: net, at: "not a time", Self.phones),
                Self.event("call_dropped", "R5", network: net, at: "2022-12-10T13:00:00Z"),
                Self.event("call_updated", "R6", network: net, at: "2022-12-10T13:00:00Z"),
                #"{"event":"call_bridged","transaction_id":"bad id!","network_id":\#(net),"occurred_at":"2022-12-10T13:00:00Z"}"#,
                #""not an object""#,
                Self.event("call_bridged", "OK", network: net, at: "2022-12-10T13:00:00Z", Self.phones),
            ]
            let reply = try await api.events(#"{"events":[\#(events.joined(separator: ","))]}"#)
            #expect(
                reply.statuses == [
                    "rejected", "rejected", "rejected", "rejected", "rejected", "rejected", "rejected", "rejected",
                    "applied",
                ])
            #expect(reply.results[0]["errors"]?["destination_phone_number"] != nil)
            #expect(reply.results[1]["errors"]?["advertiser_id"] != nil)
            #expect(reply.results[2]["errors"]?["custom_data.Qualified"] != nil)
            #expect(reply.results[3]["errors"]?["occurred_at"] != nil)
            #expect(reply.results[4]["errors"]?["event"] != nil)
            #expect(reply.results[5]["errors"]?["transaction_id"] != nil)
            #expect(reply.results[6]["errors"]?["transaction_id"] != nil)
            #expect(reply.results[6]["errors"]?["calling_phone_number"] != nil)
            #expect(reply.results[7]["transaction_id"] == .null)
            let live = try await api.find(api.networkA, token: api.world.tokens.networkA).calls
            #expect(live.compactMap { $0["transaction_id"]?.stringValue } == ["OK"])
        }
    }

    @Test(arguments: StoreBackend.available) func transactionIDsAreGlobalAcrossNetworks(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            try await api.bridge("SHARED")
            let other = Self.event(
                "call_bridged", "SHARED", network: api.world.networkB.id, at: "2022-12-10T14:00:00Z", Self.phones)
            let reply = try await api.events(other)
            #expect(reply.statuses == ["rejected"])
            #expect(reply.results[0]["errors"]?["transaction_id"] != nil)
        }
    }

    @Test(arguments: StoreBackend.available) func eventsWithoutNetworkIDUseTheStoredCallsNetwork(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            try await api.bridge("T1")
            let reply = try await api.events(
                #"{"event":"call_updated","transaction_id":"T1","occurred_at":"2022-12-10T13:59:00Z","call_status":"transferring"}"#
            )
            #expect(reply.statuses == ["applied"])
            #expect(
                try await api.find(api.networkA, token: api.world.tokens.networkA).calls.first?["call_status"]?
                    .stringValue == "transferring")
        }
    }

    @Test(arguments: StoreBackend.available) func aBridgeWithoutTransactionIDGetsAGeneratedOne(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            let reply = try await api.events(
                #"{"event":"call_bridged","network_id":\#(api.world.networkA.id),"occurred_at":"2022-12-10T13:00:00Z"\#(Self.phones)}"#
            )
            #expect(reply.statuses == ["applied"])
            let generated = try #require(reply.results.first?["transaction_id"]?.stringValue)
            #expect(TransactionID.isValid(generated))
            #expect(
                try await api.find(api.networkA + "&transaction_id=\(generated)", token: api.world.tokens.networkA)
                    .calls.count == 1)
        }
    }

    @Test(arguments: StoreBackend.available) func batchesOverOneThousandEventsAre403(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            let net = api.world.networkA.id
            let events = (0..<1001).map {
                Self.event("call_bridged", "B\($0)", network: net, at: "2022-12-10T13:00:00Z", Self.phones)
            }
            let reply = try await api.events(#"{"events":[\#(events.joined(separator: ","))]}"#)
            #expect(reply.status == 403 && reply.errors("events").count == 1)
            #expect(try await api.find(api.networkA, token: api.world.tokens.networkA).calls.isEmpty)
            let full = try await api.events(#"{"events":[\#(events.dropLast().joined(separator: ","))]}"#)
            #expect(full.status == 200 && full.statuses.count == 1000 && full.statuses.allSatisfy { $0 == "applied" })
            #expect(try await api.events(#"{"events":{"a":1}}"#).status == 403)
        }
    }

    @Test(arguments: StoreBackend.available) func endedCallsKeepWhatWasWrittenOnThem(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            try await api.bridge(
                "T1",
                extra: #","custom_data":[{"name":"utm_source","value":"google.com","source":"DynamicAttribution"}]"#)
            _ = try await api.update(
                api.networkA + "&transaction_id=T1",
                #"{"call_in_progress":{"external_unique_id":"kept","custom_data":[{"name":"Stage","value":"Won"}]}}"#,
                token: api.world.tokens.networkA)
            try await api.end("T1")
            let completed = try #require(try await api.world.store.call(transactionID: "T1"))
            #expect(completed.ended == CallEnding(at: Timestamp(iso8601: "2022-12-10T14:00:00Z")!, reason: .ended))
            #expect(completed.externalUniqueID == "kept")
            #expect(
                completed.customData["Stage"] == CustomDataEntry(value: .string("Won"), source: "CallsInProgressAPI"))
            #expect(
                completed.customData["utm_source"]
                    == CustomDataEntry(value: .string("google.com"), source: "DynamicAttribution"))
            // The ended call no longer matches updates, but its final state is still stored.
            #expect(
                try await api.update(
                    api.networkA + "&external_unique_id=kept", #"{"call_in_progress":{"external_unique_id":"x"}}"#,
                    token: api.world.tokens.networkA
                ).status == 404)
        }
    }
}
