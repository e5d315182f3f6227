import CIPDomain
import CIPTestSupport
import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The admin API (SPEC 6.1) and conditional updates (SPEC 2.7) across two nodes on one PostgreSQL.
extension MultiNodeTests {
    /// SPEC 6.1 across nodes: what the admin API makes through one node is usable through the other
    /// at once, and a rename or a new allowed value shows there too.
    @Test func adminChangesThroughOneNodeAreUsableThroughTheOtherAtOnce() async throws {
        let cluster = try await Self.startCluster()
        defer { cluster.stop() }
        let admin = try #require(
            try CIPBinary.admin(["token", "create", "--admin"], database: cluster.database)["token"]?.stringValue)
        let adminAPI = "\(cluster.api(0))/admin"
        let (status, created) = try await HTTP.send(
            "POST", "\(adminAPI)/networks/\(cluster.network)/advertisers.json", token: admin,
            body: #"{"name":"Made Through Node 0"}"#)
        #expect(status == 201)
        let advertiser = try #require(created["advertiser"]?["id"]?.positiveID)
        let (_, token) = try await HTTP.send(
            "POST", "\(adminAPI)/tokens.json", token: admin,
            body: #"{"organization_type":"advertiser","id":\#(advertiser)}"#)
        let advertiserToken = try #require(token["token"]?["token"]?.stringValue)

        // At once, through the other node: a telephony event for the new advertiser, then a GET with
        // the token the API made.
        let event =
            #"{"event":"call_bridged","transaction_id":"ADMIN-NODE","network_id":\#(cluster.network),"advertiser_id":\#(advertiser),"occurred_at":"2022-12-10T13:00:00Z","calling_phone_number":"530-999-9999","destination_phone_number":"855-559-5599"}"#
        let (_, fed) = try await HTTP.send(
            "POST", "\(cluster.api(1))/telephony/call_events.json", token: cluster.telephonyToken, body: event)
        #expect(fed["results"]?[0]?["status"]?.stringValue == "applied")
        let query = "id=\(advertiser)&organization_type=advertiser"
        let (found, list) = try await HTTP.send(
            "GET", "\(cluster.api(1))/calls_in_progress/current_calls.json?\(query)", token: advertiserToken)
        #expect(found == 200)
        #expect(list["current_calls"]?[0]?["advertiser_name"]?.stringValue == "Made Through Node 0")

        // A rename through node 0 shows in the live call's advertiser_name through node 1.
        let (renamed, _) = try await HTTP.send(
            "PATCH", "\(adminAPI)/advertisers/\(advertiser).json", token: admin, body: #"{"name":"Renamed"}"#)
        #expect(renamed == 200)
        let (_, after) = try await HTTP.send(
            "GET", "\(cluster.api(1))/calls_in_progress/current_calls.json?\(query)", token: advertiserToken)
        #expect(after["current_calls"]?[0]?["advertiser_name"]?.stringValue == "Renamed")
        #expect(after["current_calls"]?[0]?["version"] == .integer(2))

        // A category value allowed through node 0 is accepted by the next PUT through node 1.
        let fieldPath = "\(adminAPI)/networks/\(cluster.network)/fields"
        #expect(
            try await HTTP.send(
                "POST", "\(fieldPath).json", token: admin,
                body: #"{"name":"Stage","data_type":"Category","allowed_values":["New"]}"#
            ).0 == 201)
        #expect(
            try await cluster.update(
                "ADMIN-NODE", via: 1, #"{"call_in_progress":{"custom_data":[{"name":"Stage","value":"New"}]}}"#) == 200)
        #expect(
            try await HTTP.send(
                "PATCH", "\(fieldPath)/Stage.json", token: admin, body: #"{"add_allowed_values":["Won"]}"#
            )
            .0 == 200)
        #expect(
            try await cluster.update(
                "ADMIN-NODE", via: 1, #"{"call_in_progress":{"custom_data":[{"name":"Stage","value":"Won"}]}}"#) == 200)
    }

    /// SPEC 2.7 across nodes: twenty updates with the same `If-Match`, through both nodes at once,
    /// have one winner.
    @Test func twentyIfMatchUpdatesAcrossBothNodesHaveOneWinner() async throws {
        let cluster = try await Self.startCluster()
        defer { cluster.stop() }
        #expect(try await cluster.bridge("IF-MATCH", via: 0) == "applied")
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<20 {
                group.addTask {
                    var request = URLRequest(
                        url: URL(
                            string:
                                "\(cluster.api(index % 2))/calls_in_progress.json?\(cluster.networkQuery)&transaction_id=IF-MATCH"
                        )!)
                    request.httpMethod = "PUT"
                    request.setValue(cluster.orgToken, forHTTPHeaderField: "Authorization")
                    request.setValue("application/json", forHTTPHeaderField: "Content-Type")
                    request.setValue(#""IF-MATCH.1""#, forHTTPHeaderField: "If-Match")
                    request.httpBody = Data(
                        #"{"call_in_progress":{"custom_data":[{"name":"f1","value":"v\#(index)"}]}}"#.utf8)
                    let (_, response) = try await URLSession.shared.data(for: request)
                    return (response as? HTTPURLResponse)?.statusCode ?? 0
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses.filter { $0 == 200 }.count == 1, "\(statuses)")
        #expect(statuses.filter { $0 == 412 }.count == 19)
        #expect(try await cluster.find("&transaction_id=IF-MATCH", via: 1).first?["version"] == .integer(2))
    }
}
