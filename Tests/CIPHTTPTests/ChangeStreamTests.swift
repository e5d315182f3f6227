import CIPChangeStream
import CIPDomain
import CIPHTTP
import CIPStore
import CIPStreamClient
import CIPTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import Testing

/// SPEC 8: the change stream, read over real HTTP on both backends.
@Suite("Change stream")
struct ChangeStreamTests {
    /// Network A's current calls as `GET current_calls` lists them.
    static func current(_ api: APITester, _ query: String? = nil, token: String? = nil) async throws -> [JSONValue] {
        try await api.find(query ?? api.networkA, token: token ?? api.world.tokens.networkA).calls
    }

    static func ids(_ calls: [JSONValue]) -> [String] { calls.compactMap { $0["transaction_id"]?.stringValue } }

    @Test(arguments: StoreBackend.available) func aSnapshotThenEveryChangeWithWhatItChanged(
        _ backend: StoreBackend
    ) async throws {
        try await withStreams(backend) { streams in
            let api = streams.api
            try await api.bridge("S1", advertiser: streams.world.advertiserA1.id)
            try await api.bridge("S2", advertiser: streams.world.advertiserA2.id, calling: "530-999-0002")
            // PostgreSQL numbers a change just after its commit; a snapshot is exactly as of a number.
            try await streams.numbered(through: 2)
            let stream = streams.networkA()
            defer { stream.close() }
            let snapshot = try await stream.expect("snapshot")
            let start = try #require(snapshot["sequence"]?.positiveID)
            #expect(snapshot["current_calls"]?.arrayValue == (try await Self.current(api)))

            // PUT: the external id and a custom data value, named in `changed`.
            let put = try await api.update(
                "\(api.networkA)&transaction_id=S1",
                #"{"call_in_progress":{"external_unique_id":"crm-1","custom_data":[{"name":"Call Disposition","value":"Sale"}]}}"#,
                token: streams.world.tokens.networkA)
            #expect(put.status == 200)
            let updated = try await stream.expect("call_updated")
            #expect(updated["type"]?.stringValue == "call_updated")
            #expect(
                updated["changed"] == .array([.string("external_unique_id"), .string("custom_data.Call Disposition")]))
            #expect(updated["call"] == put.json["current_call"])

            // A telephony update of the status.
            try await api.events(
                #"{"event":"call_updated","transaction_id":"S2","network_id":\#(streams.world.networkA.id),"occurred_at":"2022-12-10T13:50:00Z","call_status":"on_hold"}"#
            )
            let status = try await stream.expect("call_updated")
            #expect(status["changed"] == .array([.string("call_status")]))
            #expect(status["call"]?["call_status"]?.stringValue == "on_hold")

            // A new call, and an end.
            try await api.bridge("S3", calling: "530-999-0003")
            let bridged = try await stream.expect("call_bridged")
            #expect(bridged["changed"] == .array([]))
            #expect(bridged["call"]?["transaction_id"]?.stringValue == "S3")
            try await api.end("S1")
            let ended = try await stream.expect("call_ended")
            #expect(ended["changed"] == .array([]))
            #expect(ended["call"]?["transaction_id"]?.stringValue == "S1")
            #expect(ended["call"]?["call_end_time_utc"]?.stringValue == "2022-12-10T14:00:00.000Z")
            #expect(ended["call"]?["end_reason"]?.stringValue == "ended")
            #expect(ended["call"]?["external_unique_id"]?.stringValue == "crm-1")

            // Ids are the sequence numbers, increasing from the snapshot's.
            let sequences = [updated, status, bridged, ended].compactMap { $0["sequence"]?.positiveID }
            #expect(sequences.count == 4 && sequences.first! > start && sequences == sequences.sorted())
            #expect(Set(sequences).count == 4)

            // /metrics counts the open stream, the events sent and how long they took from commit.
            let metrics = streams.services.metrics.render()
            #expect(MetricsTests.value(metrics, "cip_streams_open") == 1)
            #expect(MetricsTests.value(metrics, "cip_stream_events_sent_total") == 4)
            #expect((MetricsTests.value(metrics, "cip_stream_delivery_seconds_count") ?? 0) >= 1)
            #expect(MetricsTests.value(metrics, "cip_stream_overflows_total") == 0)
        }
    }

    @Test(arguments: StoreBackend.available) func eachStreamSeesOnlyItsOrganizationsCalls(
        _ backend: StoreBackend
    ) async throws {
        try await withStreams(backend) { streams in
            let api = streams.api
            let world = streams.world
            let advertiser = streams.advertiserA1()
            let network = streams.networkA()
            let other = TestStream(
                streams.target("network", world.networkB.id, token: world.tokens.networkB))
            defer { for stream in [advertiser, network, other] { stream.close() } }
            for stream in [advertiser, network, other] { _ = try await stream.expect("snapshot") }

            try await api.bridge("P1", advertiser: world.advertiserA1.id)
            try await api.bridge("P2", advertiser: world.advertiserA2.id, calling: "530-999-0002")
            try await api.bridge("P3", calling: "530-999-0003")
            let bridgeB =
                #"{"event":"call_bridged","transaction_id":"Q1","network_id":\#(world.networkB.id),"advertiser_id":\#(world.advertiserB1.id),"occurred_at":"2022-12-10T13:49:00Z","calling_phone_number":"07700 900123","destination_phone_number":"020 7946 0000"}"#
            #expect(try await api.events(bridgeB).statuses == ["applied"])
            // The last change visible to each: whatever each saw before it is all it saw.
            try await api.bridge("P9", advertiser: world.advertiserA1.id, calling: "530-999-0009")
            try await api.events(bridgeB.replacingOccurrences(of: "Q1", with: "Q9"))

            func seen(_ stream: TestStream, until last: String) async throws -> [String] {
                var ids: [String] = []
                while ids.last != last {
                    ids.append(try await stream.expect("call_bridged")["call"]?["transaction_id"]?.stringValue ?? "?")
                }
                return ids
            }
            #expect(try await seen(advertiser, until: "P9") == ["P1", "P9"])
            #expect(try await seen(network, until: "P9") == ["P1", "P2", "P3", "P9"])
            #expect(try await seen(other, until: "Q9") == ["Q1", "Q9"])
        }
    }

    @Test(arguments: StoreBackend.available) func aClientResumesAfterItsLastEventWithoutASnapshot(
        _ backend: StoreBackend
    ) async throws {
        try await withStreams(backend) { streams in
            let api = streams.api
            try await api.bridge("R1")
            try await streams.numbered(through: 1)
            let first = streams.networkA()
            let snapshot = try await first.expect("snapshot")
            #expect(snapshot["sequence"] == .integer(1))
            first.close()
            _ = try await first.ended()

            // Changes while the client is away.
            try await api.bridge("R2", calling: "530-999-0002")
            _ = try await api.update(
                "\(api.networkA)&transaction_id=R1",
                #"{"call_in_progress":{"custom_data":[{"name":"Stage","value":"Won"}]}}"#,
                token: streams.world.tokens.networkA)
            try await api.end("R2")
            try await streams.numbered(through: 4)

            // By header, then by query (after one more change): only the changes after the id, in order.
            let byHeader = streams.networkA(lastEventID: 1)
            let byQuery = TestStream(
                streams.target("network", streams.world.networkA.id, token: streams.world.tokens.networkARead),
                query: "&last_event_id=1")
            for (resumed, expected) in [
                (byHeader, ["call_bridged", "call_updated", "call_ended"]),
                (byQuery, ["call_bridged", "call_updated", "call_ended", "call_bridged"]),
            ] {
                defer { resumed.close() }
                var mirror = try Self.mirror(of: snapshot)
                let applied = try await Self.converge(resumed, &mirror, to: try await Self.current(api))
                #expect(applied == expected)
                // Live again after the replay.
                try await api.bridge("R3-\(expected.count)", calling: "530-999-000\(expected.count)")
                #expect(try await resumed.next().event == "call_bridged")
            }
        }
    }

    @Test(arguments: StoreBackend.available) func anIDTheLogNoLongerHoldsOrNeverIssuedIsAReset(
        _ backend: StoreBackend
    ) async throws {
        try await withStreams(backend) { streams in
            let api = streams.api
            try await api.bridge("X1")
            try await api.bridge("X2", calling: "530-999-0002")
            try await streams.numbered(through: 2)
            let unknown = streams.networkA(lastEventID: 9_000_000)
            defer { unknown.close() }
            let reset = try await unknown.expect("reset")
            #expect(reset["reason"]?.stringValue != nil)
            #expect(Self.ids(try await unknown.expect("snapshot")["current_calls"]?.arrayValue ?? []).count == 2)

            // Purged: the change after id 1 is gone.
            let latest = try await streams.world.store.changeLogBounds().latest
            _ = try await streams.world.store.purgeChanges(committedBefore: Timestamp(milliseconds: Int64.max / 2))
            let bounds = try await streams.world.store.changeLogBounds()
            #expect(bounds.purgedThrough == latest)
            let purged = streams.networkA(lastEventID: 1)
            defer { purged.close() }
            _ = try await purged.expect("reset")
            let snapshot = try await purged.expect("snapshot")
            #expect(Self.ids(snapshot["current_calls"]?.arrayValue ?? []).sorted() == ["X1", "X2"])
            // The log's end itself is still a valid place to resume from.
            let atEnd = streams.networkA(lastEventID: latest)
            defer { atEnd.close() }
            try await api.end("X1")
            #expect(try await atEnd.next().event == "call_ended")
        }
    }

    @Test(arguments: StoreBackend.available) func aCallMovedBetweenAdvertisersStartsBothStreamsOver(
        _ backend: StoreBackend
    ) async throws {
        try await withStreams(backend) { streams in
            let api = streams.api
            let world = streams.world
            let fromStream = streams.advertiserA1()
            let toStream = TestStream(
                streams.target("advertiser", world.advertiserA2.id, token: world.tokens.advertiserA2))
            defer { for stream in [fromStream, toStream] { stream.close() } }
            var from = try Self.mirror(of: try await fromStream.expect("snapshot"))
            let to = try Self.mirror(of: try await toStream.expect("snapshot"))
            try await api.bridge("M1", advertiser: world.advertiserA1.id)
            _ = try from.apply(try await fromStream.next())
            #expect(from.calls.keys.sorted() == ["M1"])

            try await api.events(
                #"{"event":"call_updated","transaction_id":"M1","network_id":\#(world.networkA.id),"advertiser_id":\#(world.advertiserA2.id),"occurred_at":"2022-12-10T13:55:00Z"}"#
            )
            for (stream, mirror, expected) in [(fromStream, from, [String]()), (toStream, to, ["M1"])] {
                var mirror = mirror
                #expect(try mirror.apply(try await stream.next()) == .reset)
                _ = try mirror.apply(try await stream.expect("snapshot", within: .seconds(10)).asEvent("snapshot"))
                #expect(mirror.calls.keys.sorted() == expected)
            }
        }
    }

    @Test(arguments: StoreBackend.available) func errorsAreAnsweredAsJSONBeforeAnyStream(
        _ backend: StoreBackend
    ) async throws {
        try await withStreams(backend) { streams in
            let api = streams.api
            let path = "\(base)/calls_in_progress/stream"
            let world = streams.world
            let cases: [(String, String?, [String: String], Int, String)] = [
                ("?\(api.networkA)", nil, [:], 401, "NotAuthorized"),
                ("?\(api.networkA)", world.tokens.revoked, [:], 401, "NotAuthorized"),
                ("?\(api.networkA)", world.tokens.telephony, [:], 401, "NotAuthorized"),
                (
                    "?id=\(world.networkB.id)&organization_type=network", world.tokens.networkARead, [:], 401,
                    "NotAuthorized"
                ),
                ("?id=999999&organization_type=network", world.tokens.networkARead, [:], 401, "NotAuthorized"),
                // An advertiser's token for its network, and for its sibling.
                ("?\(api.networkA)", world.tokens.advertiserA1Read, [:], 401, "NotAuthorized"),
                (
                    "?id=\(world.advertiserA2.id)&organization_type=advertiser", world.tokens.advertiserA1Read, [:],
                    401, "NotAuthorized"
                ),
                (
                    "?id=\(world.networkA.id)&organization_type=planet", world.tokens.networkARead, [:], 403,
                    "organization_type"
                ),
                ("?organization_type=network", world.tokens.networkARead, [:], 403, "id"),
                ("?\(api.networkA)&last_event_id=abc", world.tokens.networkARead, [:], 403, "last_event_id"),
                ("?\(api.networkA)", world.tokens.networkARead, ["Last-Event-ID": "-1"], 403, "last_event_id"),
                ("?\(api.networkA)", world.tokens.networkARead, ["Last-Event-ID": "1.5"], 403, "last_event_id"),
            ]
            for (query, token, headers, status, named) in cases {
                var fields = HTTPFields()
                for (name, value) in headers { fields[HTTPField.Name(name)!] = value }
                let reply = try await api.request(.get, path + query, token: token, headers: fields)
                #expect(reply.status == status, "\(query)")
                #expect(reply.headers[.contentType] == "application/json; charset=utf-8", "\(query)")
                if status == 401 {
                    #expect(reply.json == .object(["error": .string(named)]))
                } else {
                    #expect(!reply.errors(named).isEmpty, "\(query): \(reply.text)")
                }
            }
            // Only GET.
            let post = try await api.request(.post, path + "?\(api.networkA)", token: world.tokens.networkA, body: "{}")
            #expect(post.status == 405)
        }
    }

    @Test func aQuietStreamSendsKeepAliveComments() async throws {
        var settings = APISettings()
        settings.streams.keepAlive = .milliseconds(300)
        try await withStreams(.sqlite, settings: settings) { streams in
            let connection = try RawConnection(port: streams.port)
            connection.send(
                "GET \(base)/calls_in_progress/stream?\(streams.api.networkA) HTTP/1.1\r\nHost: x\r\nAuthorization: \(streams.world.tokens.networkARead)\r\n\r\n"
            )
            let received = connection.read(until: ": keep-alive\n\n", timeout: .seconds(20))
            #expect(received.text.contains("event: snapshot"))
            #expect(received.text.contains(": keep-alive\n\n"))
            #expect(!received.timedOut)
        }
    }

    @Test(arguments: StoreBackend.available) func aTokenHasAtMostItsCapOfStreamsOnANode(
        _ backend: StoreBackend
    ) async throws {
        var settings = APISettings()
        settings.streams.maxStreamsPerToken = 2
        try await withStreams(backend, settings: settings) { streams in
            let first = streams.networkA()
            let second = streams.networkA()
            defer { for stream in [first, second] { stream.close() } }
            for stream in [first, second] { _ = try await stream.expect("snapshot") }
            let path = "\(base)/calls_in_progress/stream?\(streams.api.networkA)"
            let third = try await streams.api.request(.get, path, token: streams.world.tokens.networkARead)
            #expect(third.status == 429)
            #expect(third.json == .object(["error": .string("RateLimited")]))
            #expect(third.headers[.retryAfter] != nil)
            // Another token is not counted against this one.
            let other = streams.networkA(token: streams.world.tokens.networkA)
            defer { other.close() }
            _ = try await other.expect("snapshot")
            // A closed stream frees its place at once, even with nothing to send.
            first.close()
            _ = try await first.ended()
            let deadline = ContinuousClock.now + .seconds(5)
            while streams.services.changeStreams.openStreams > 2, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            let again = streams.networkA()
            defer { again.close() }
            _ = try await again.expect("snapshot")
        }
    }

    @Test(arguments: StoreBackend.available) func aRevokedTokensStreamsEndWithinASecond(
        _ backend: StoreBackend
    ) async throws {
        try await withStreams(backend) { streams in
            let store = streams.world.store
            let text = TokenGenerator.newToken()
            let token = try await store.createToken(
                hash: TokenHash(of: text), kind: .organization,
                organization: OrganizationRef(type: .network, id: streams.world.networkA.id), scope: .read,
                description: nil, createdAt: .now())
            let streamsOfToken = [streams.networkA(token: text), streams.networkA(token: text)]
            let bystander = streams.networkA()
            defer { for stream in (streamsOfToken + [bystander]) { stream.close() } }
            for stream in streamsOfToken + [bystander] { _ = try await stream.expect("snapshot") }
            _ = try await store.revokeToken(id: token.id)
            let revokedAt = ContinuousClock.now
            for stream in streamsOfToken {
                #expect(try await stream.ended(within: .seconds(5)) == "ended")
            }
            let took = ContinuousClock.now - revokedAt
            #expect(took < .seconds(1), "streams ended \(took) after the revocation")
            #expect(bystander.outcome == nil)
            try await streams.api.bridge("V1")
            #expect(try await bystander.next().event == "call_bridged")
        }
    }

    /// Applies `stream`'s events to `mirror` until it holds exactly `current` (as `current_calls`
    /// lists them); returns the types of the events applied.
    static func converge(
        _ stream: TestStream, _ mirror: inout CallsMirror, to current: [JSONValue]
    ) async throws -> [String] {
        let expected = Dictionary(uniqueKeysWithValues: current.map { ($0["transaction_id"]?.stringValue ?? "", $0) })
        var applied: [String] = []
        while mirror.calls != expected {
            let event = try await stream.next()
            _ = try mirror.apply(event)
            applied.append(event.event)
        }
        return applied
    }

    /// The snapshot event as a mirror holds it.
    static func mirror(of snapshot: JSONValue) throws -> CallsMirror {
        var mirror = CallsMirror()
        _ = try mirror.apply(snapshot.asEvent("snapshot"))
        return mirror
    }
}

extension JSONValue {
    /// This value as the data of an event of `type` (the tests decode events to look at them).
    func asEvent(_ type: String) -> ServerSentEvent {
        var writer = JSONWriter()
        writer.value(self)
        return ServerSentEvent(event: type, id: self["sequence"]?.positiveID.map(String.init), data: writer.text)
    }
}
