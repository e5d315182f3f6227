import CIPDomain
import CIPHTTP
import CIPStore
import CIPTestSupport
import Testing

/// The rule of `AdvertiserRename`: a live call whose advertiser name (or id from the network) came
/// from the advertiser's record follows a rename, as a change of that call; one the telephony layer
/// named otherwise keeps its name.
@Suite("An advertiser's rename reaches its live calls")
struct AdvertiserRenameTests {
    @Test(arguments: StoreBackend.available) func liveCallsFollowTheRecordNotTheSender(
        _ backend: StoreBackend
    ) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            let network = api.world.networkA.id
            let a1 = api.world.advertiserA1.id
            func bridge(_ id: String, _ extra: String) async throws {
                let reply = try await api.events(
                    #"{"event":"call_bridged","transaction_id":"\#(id)","network_id":\#(network),"advertiser_id":\#(a1),"occurred_at":"2022-12-10T13:00:00Z","calling_phone_number":"530-999-9999","destination_phone_number":"855-559-5599"\#(extra)}"#
                )
                #expect(reply.statuses == ["applied"])
            }
            try await bridge("FROM-RECORD", "")
            try await bridge(
                "FROM-SENDER", #","advertiser_name":"Acme (sender's name)","advertiser_id_from_network":"sender-7""#)

            let reply = try await api.request(
                .patch, "\(adminBase)/advertisers/\(a1).json", token: api.world.tokens.admin,
                body: #"{"name":"A1 Renamed","id_from_network":"ext-a1-new"}"#)
            #expect(reply.status == 200)

            let calls = try await api.find("\(api.networkA)", token: api.world.tokens.networkA).calls
            let byID = Dictionary(uniqueKeysWithValues: calls.map { ($0["transaction_id"]?.stringValue ?? "", $0) })
            #expect(byID["FROM-RECORD"]?["advertiser_name"]?.stringValue == "A1 Renamed")
            #expect(byID["FROM-RECORD"]?["advertiser_id_from_network"]?.stringValue == "ext-a1-new")
            #expect(byID["FROM-RECORD"]?["version"] == .integer(2))
            #expect(byID["FROM-SENDER"]?["advertiser_name"]?.stringValue == "Acme (sender's name)")
            #expect(byID["FROM-SENDER"]?["advertiser_id_from_network"]?.stringValue == "sender-7")
            #expect(byID["FROM-SENDER"]?["version"] == .integer(1))

            // The rename is one change of the call, in the change log the streams read (SPEC 8); on
            // PostgreSQL a change is numbered just after its commit, so wait for it.
            var changes: [LoggedChange] = []
            let numberedBy = ContinuousClock.now + .seconds(30)
            while changes.isEmpty, ContinuousClock.now < numberedBy {
                changes = try await api.world.store.changes(after: 0, visibleTo: nil, limit: 100).filter {
                    $0.kind == .updated
                }
                if changes.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(changes.map(\.transactionID) == ["FROM-RECORD"])
            #expect(changes.first?.kind == .updated)
            #expect(changes.first?.changed == ["advertiser_id_from_network", "advertiser_name"])

            // Doing it again (another node noticing the same rename) changes nothing more.
            let rename = AdvertiserRename(
                before: Advertiser(id: a1, networkID: network, name: "A1", idFromNetwork: "ext-a1"),
                after: Advertiser(id: a1, networkID: network, name: "A1 Renamed", idFromNetwork: "ext-a1-new"))
            #expect(try await api.world.store.followRename(rename) == 0)
            // A new call takes the new name from the record.
            try await bridge("AFTER", "")
            let after = try await api.find("\(api.networkA)&transaction_id=AFTER", token: api.world.tokens.networkA)
            #expect(after.calls.first?["advertiser_name"]?.stringValue == "A1 Renamed")
        }
    }
}
