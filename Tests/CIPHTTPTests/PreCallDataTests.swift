import CIPDomain
import CIPStore
import CIPTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// SPEC 2.9: data left for a caller's next call.
@Suite("Pre-call data (SPEC 2.9)")
struct PreCallDataTests {
    static let path = "\(base)/calls_in_progress/pre_call_data.json"

    static func entry(
        calling: String = "530-555-0001", destination: String? = nil, externalID: String? = nil,
        disposition: String? = "PRE", expiresIn: Int? = nil
    ) -> String {
        var members = [#""calling_phone_number":"\#(calling)""#]
        if let destination { members.append(#""destination_phone_number":"\#(destination)""#) }
        if let externalID { members.append(#""external_unique_id":"\#(externalID)""#) }
        if let disposition { members.append(#""custom_data":[{"name":"Call Disposition","value":"\#(disposition)"}]"#) }
        if let expiresIn { members.append(#""expires_in":\#(expiresIn)"#) }
        return #"{"pre_call_data":{\#(members.joined(separator: ","))}}"#
    }

    static func call(_ api: APITester, _ id: String) async throws -> JSONValue? {
        try await api.find("\(api.networkA)&transaction_id=\(id)", token: api.world.tokens.networkA).calls.first
    }

    @Test(arguments: StoreBackend.available) func writtenListedReplacedWithdrawn(_ backend: StoreBackend) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            let token = api.world.tokens.networkA
            let put = try await api.request(
                .put, "\(Self.path)?\(api.networkA)", token: token, body: Self.entry(destination: "(855) 559-5599"))
            #expect(put.status == 201, "\(put.text)")
            let stored = try #require(put.json["pre_call_data"])
            #expect(stored["calling_phone_number"]?.stringValue == "+15305550001")
            #expect(stored["destination_phone_number"]?.stringValue == "+18555595599")
            #expect(
                stored["custom_data"]
                    == .object([
                        "Call Disposition": .object(["value": .string("PRE"), "source": .string("PreCallAPI")])
                    ]))
            let created = try #require(stored["created_at"]?.stringValue.flatMap(Timestamp.init(iso8601:)))
            let expires = try #require(stored["expires_at"]?.stringValue.flatMap(Timestamp.init(iso8601:)))
            #expect(expires.milliseconds - created.milliseconds == 600_000, "expires_in defaults to 600 s")

            // A name given twice keeps its last value (as in SPEC 2.4's updates); found by schemathesis,
            // which sent a list of one name repeated, and the server trapped building a dictionary.
            let repeated = try await api.request(
                .put, "\(Self.path)?\(api.networkA)", token: token,
                body: #"{"pre_call_data": {"calling_phone_number": "530-555-0009", "custom_data": ["#
                    + #"{"name": "Call Disposition", "value": "FIRST"}, {"name": "Call Disposition", "value": "LAST"}]}}"#
            )
            #expect(repeated.status == 201, "\(repeated.text)")
            #expect(
                repeated.json["pre_call_data"]?["custom_data"]?["Call Disposition"]?["value"]?.stringValue == "LAST")
            _ = try await api.request(
                .delete, "\(Self.path)?\(api.networkA)&calling_phone_number=5305550009", token: token)

            // The same numbers again replace it; other numbers make another, listed newest first.
            _ = try await api.request(
                .post, "\(Self.path)?\(api.networkA)", token: token,
                body: Self.entry(destination: "8555595599", disposition: "NEWER"))
            _ = try await api.request(
                .put, "\(Self.path)?\(api.networkA)", token: token, body: Self.entry(calling: "530-555-0002"))
            let listed = try await api.request(
                .get, "\(Self.path)?\(api.networkA)", token: api.world.tokens.networkARead)
            let entries = listed.json["pre_call_data"]?.arrayValue ?? []
            #expect(entries.map { $0["calling_phone_number"]?.stringValue } == ["+15305550002", "+15305550001"])
            #expect(entries[1]["custom_data"]?["Call Disposition"]?["value"]?.stringValue == "NEWER")

            let withdraw =
                "\(Self.path)?\(api.networkA)&calling_phone_number=5305550001&destination_phone_number=8555595599"
            let withdrawn = try await api.request(.delete, withdraw, token: token)
            #expect(
                withdrawn.status == 200
                    && withdrawn.json["pre_call_data"]?["calling_phone_number"]?.stringValue == "+15305550001")
            #expect(try await api.request(.delete, withdraw, token: token).status == 404)

            // Bad input: 403 naming what is wrong; a read token or another organization: 401.
            for (body, key) in [
                (
                    #"{"pre_call_data":{"custom_data":[{"name":"Call Disposition","value":"x"}]}}"#,
                    "calling_phone_number"
                ),
                (#"{"pre_call_data":{"calling_phone_number":"5305550003"}}"#, "pre_call_data"),
                (Self.entry(expiresIn: 0), "expires_in"), (Self.entry(expiresIn: 86_401), "expires_in"),
                (Self.entry(calling: "12"), "calling_phone_number"),
                (
                    #"{"pre_call_data":{"calling_phone_number":"5305550003","custom_data":[{"name":"Nope","value":"x"}]}}"#,
                    "custom_data.Nope"
                ),
                (
                    #"{"pre_call_data":{"calling_phone_number":"5305550003","custom_data":[{"name":"Qualified","value":"maybe"}]}}"#,
                    "custom_data.Qualified"
                ),
            ] {
                let reply = try await api.request(.put, "\(Self.path)?\(api.networkA)", token: token, body: body)
                #expect(reply.status == 403 && !reply.errors(key).isEmpty, "\(body): \(reply.text)")
            }
            #expect(
                try await api.request(
                    .put, "\(Self.path)?\(api.networkA)", token: api.world.tokens.networkARead, body: Self.entry()
                ).status == 401)
            #expect(
                try await api.request(
                    .put, "\(Self.path)?\(api.networkA)", token: api.world.tokens.networkB, body: Self.entry()
                ).status == 401)
            #expect(
                try await api.request(.get, "\(Self.path)?\(api.networkA)", token: api.world.tokens.networkB).status
                    == 401)
            #expect(
                try await api.request(.delete, "\(Self.path)?\(api.networkA)", token: token).errors(
                    "calling_phone_number") == ["is required"])
        }
    }

    @Test(arguments: StoreBackend.available) func appliedAtTheBridgeOnceAndOnlyWhereItBelongs(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            let token = api.world.tokens.networkA
            let put = { (query: String, body: String) in
                let reply = try await api.request(.put, "\(Self.path)?\(query)", token: token, body: body)
                #expect(reply.status == 201, "\(reply.text)")
            }
            // Applied at the bridge: custom data with source PreCallAPI, the external id, version 1.
            try await put(api.networkA, Self.entry(calling: "530-555-0001", externalID: "pre-1"))
            try await api.bridge("PRE-1", calling: "530-555-0001")
            let first = try #require(try await Self.call(api, "PRE-1"))
            #expect(
                first["custom_data"]?["Call Disposition"]
                    == .object(["value": .string("PRE"), "source": .string("PreCallAPI")]))
            #expect(first["external_unique_id"]?.stringValue == "pre-1")
            #expect(first["version"] == .integer(1))
            // Its call_bridged change (what the stream's first event carries) holds it too.
            var bridged: LoggedChange?
            let numberedBy = ContinuousClock.now + .seconds(30)
            while bridged == nil, ContinuousClock.now < numberedBy {
                bridged = try await api.world.store.changes(after: 0, visibleTo: nil, limit: 100).first {
                    $0.transactionID == "PRE-1" && $0.kind == .bridged
                }
                if bridged == nil { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(bridged?.call.contains("PreCallAPI") == true && bridged?.call.contains("pre-1") == true)
            // Consumed: the next call from that caller gets nothing.
            try await api.bridge("PRE-2", calling: "530-555-0001")
            #expect(try await Self.call(api, "PRE-2")?["custom_data"] == .object([:]))

            // An external id a live call has is left unset; the rest still applies.
            try await put(api.networkA, Self.entry(calling: "530-555-0003", externalID: "pre-1", disposition: "TAKEN"))
            try await api.bridge("PRE-3", calling: "530-555-0003")
            let third = try #require(try await Self.call(api, "PRE-3"))
            #expect(
                third["external_unique_id"] == .null
                    && third["custom_data"]?["Call Disposition"]?["value"]?.stringValue == "TAKEN")

            // Not after it expires.
            try await put(api.networkA, Self.entry(calling: "530-555-0004", expiresIn: 1))
            try await Task.sleep(for: .milliseconds(1_200))
            #expect(
                try await api.request(.get, "\(Self.path)?\(api.networkA)", token: token).json["pre_call_data"]
                    == .array([]))
            try await api.bridge("PRE-4", calling: "530-555-0004")
            #expect(try await Self.call(api, "PRE-4")?["custom_data"] == .object([:]))

            // Not to another network's call, nor another advertiser's; a destination narrows it.
            try await put(api.advertiserA1, Self.entry(calling: "530-555-0005", disposition: "A1"))
            try await put(
                api.networkA, Self.entry(calling: "530-555-0006", destination: "855-550-0001", disposition: "DEST"))
            let otherNetwork = try await api.events(
                #"{"event":"call_bridged","transaction_id":"PRE-B","network_id":\#(api.world.networkB.id),"occurred_at":"2022-12-10T13:00:00Z","calling_phone_number":"+15305550005","destination_phone_number":"+18555595599"}"#
            )
            #expect(otherNetwork.statuses == ["applied"], "\(otherNetwork.text)")
            let callB = try await api.find(
                "id=\(api.world.networkB.id)&organization_type=network&transaction_id=PRE-B",
                token: api.world.tokens.networkB)
            #expect(callB.calls.first?["custom_data"] == .object([:]))
            try await api.bridge("PRE-A2", advertiser: api.world.advertiserA2.id, calling: "530-555-0005")
            #expect(try await Self.call(api, "PRE-A2")?["custom_data"] == .object([:]))
            try await api.bridge("PRE-D2", calling: "530-555-0006", destination: "855-550-0002")
            #expect(try await Self.call(api, "PRE-D2")?["custom_data"] == .object([:]))
            try await api.bridge("PRE-A1", advertiser: api.world.advertiserA1.id, calling: "530-555-0005")
            #expect(
                try await Self.call(api, "PRE-A1")?["custom_data"]?["Call Disposition"]?["value"]?.stringValue == "A1")
            try await api.bridge("PRE-D1", calling: "530-555-0006", destination: "855-550-0001")
            #expect(
                try await Self.call(api, "PRE-D1")?["custom_data"]?["Call Disposition"]?["value"]?.stringValue == "DEST"
            )

            // Several match: the most recently written applies, the others stay pending.
            try await put(api.networkA, Self.entry(calling: "530-555-0007", disposition: "OLDER"))
            try await put(api.advertiserA1, Self.entry(calling: "530-555-0007", disposition: "NEWER"))
            try await api.bridge("PRE-7", advertiser: api.world.advertiserA1.id, calling: "530-555-0007")
            #expect(
                try await Self.call(api, "PRE-7")?["custom_data"]?["Call Disposition"]?["value"]?.stringValue == "NEWER"
            )
            let pending = try await api.request(.get, "\(Self.path)?\(api.networkA)", token: token).json[
                "pre_call_data"]
            #expect(
                pending?.arrayValue?.compactMap { $0["custom_data"]?["Call Disposition"]?["value"]?.stringValue } == [
                    "OLDER"
                ])
        }
    }

    /// Written while the matching call is bridged: applied to it, or still pending; never lost, never twice.
    @Test(arguments: StoreBackend.available) func writtenDuringTheBridgeIsAppliedOrPending(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend, setup: .live) { (api: APITester) async throws in
            for round in 0..<20 {
                let caller = "530-556-\(String(format: "%04d", round))"
                async let written = api.request(
                    .put, "\(Self.path)?\(api.networkA)", token: api.world.tokens.networkA,
                    body: Self.entry(calling: caller, disposition: "R\(round)"))
                async let bridged = api.bridge("RACE-PRE-\(round)", calling: caller)
                let (put, bridge) = try await (written, bridged)
                #expect(put.status == 201 && bridge.statuses == ["applied"])
                let applied = try await Self.call(api, "RACE-PRE-\(round)")?["custom_data"]?["Call Disposition"] != nil
                let pending =
                    (try await api.request(
                        .get, "\(Self.path)?\(api.networkA)", token: api.world.tokens.networkA
                    ).json["pre_call_data"]?.arrayValue ?? []).contains {
                        $0["custom_data"]?["Call Disposition"]?["value"]?.stringValue == "R\(round)"
                    }
                #expect(applied != pending, "round \(round): applied \(applied), pending \(pending)")
            }
        }
    }
}
