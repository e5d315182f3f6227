import CIPDomain
import CIPTestSupport
import Testing

@Suite("Concurrent requests (SPEC 2.4)")
struct ConcurrencyTests {
    @Test(arguments: StoreBackend.available) func fiftyConcurrentCustomDataUpdatesAllLand(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend, setup: .live) { (api: APITester) async throws in
            try await api.bridge("T1")
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<50 {
                    group.addTask {
                        try await api.update(
                            api.networkA + "&transaction_id=T1",
                            #"{"call_in_progress":{"custom_data":[{"name":"f\#(index)","value":"v\#(index)"}]}}"#,
                            token: api.world.tokens.networkA
                        ).status
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.count == 50 && statuses.allSatisfy { $0 == 200 })
            let data = try #require(
                try await api.find(api.networkA, token: api.world.tokens.networkA).calls.first?["custom_data"]?
                    .objectValue)
            #expect(data.count == 50)
            #expect((0..<50).allSatisfy { data["f\($0)"]?["value"]?.stringValue == "v\($0)" })
        }
    }

    @Test(arguments: StoreBackend.available) func twoCallsRacingForOneExternalIDHaveOneWinner(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend, setup: .live) { (api: APITester) async throws in
            try await api.bridge("T1")
            try await api.bridge("T2")
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for id in ["T1", "T2"] {
                    group.addTask {
                        try await api.update(
                            api.networkA + "&transaction_id=\(id)",
                            #"{"call_in_progress":{"external_unique_id":"contested"}}"#,
                            token: api.world.tokens.networkA
                        ).status
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.sorted() == [200, 409])
            let holders = try await api.find(
                api.networkA + "&external_unique_id=contested", token: api.world.tokens.networkA
            ).calls
            #expect(holders.count == 1)
        }
    }

    /// A feed event and a PUT on one call at the same time both land: every write of a call takes the
    /// same lock (on PostgreSQL the feed once wrote back a call it had read before a PUT committed).
    @Test(arguments: StoreBackend.available) func feedEventsAndUpdatesOfOneCallAllLand(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend, setup: .live) { (api: APITester) async throws in
            try await api.bridge("T1")
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<30 {
                    group.addTask {
                        if index % 2 == 0 {
                            return try await api.update(
                                api.networkA + "&transaction_id=T1",
                                #"{"call_in_progress":{"custom_data":[{"name":"f\#(index)","value":"put\#(index)"}]}}"#,
                                token: api.world.tokens.networkA
                            ).status
                        }
                        let second = String(format: "%02d", index)
                        return try await api.events(
                            #"{"event":"call_updated","transaction_id":"T1","network_id":\#(api.world.networkA.id),"occurred_at":"2022-12-10T13:50:\#(second).000Z","custom_data":[{"name":"f\#(index)","value":"event\#(index)"}]}"#
                        ).status
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == 200 })
            let call = try #require(try await api.find(api.networkA, token: api.world.tokens.networkA).calls.first)
            let data = try #require(call["custom_data"]?.objectValue)
            // Events that arrive after a newer one are ignored (SPEC 4): only the PUTs must all land.
            #expect((0..<30).filter { $0 % 2 == 0 }.allSatisfy { data["f\($0)"]?["value"]?.stringValue == "put\($0)" })
            #expect(call["version"] == .integer(Int64(1 + data.count)))
        }
    }
}
