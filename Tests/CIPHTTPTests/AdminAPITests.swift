import CIPDomain
import CIPHTTP
import CIPStore
import CIPTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

let adminBase = "\(base)/admin"

/// SPEC 6.1: the admin API, every row of its table, its errors, and the separation of token kinds.
@Suite("The admin API (SPEC 6.1)")
struct AdminAPITests {
    @Test(arguments: StoreBackend.available) func networksAndAdvertisers(_ backend: StoreBackend) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            let admin = api.world.tokens.admin
            let networks = try await api.request(.get, "\(adminBase)/networks.json", token: admin)
            #expect(networks.status == 200)
            #expect(
                networks.json["networks"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == [
                    "Network A", "Network B",
                ])
            #expect(
                networks.json["networks"]?[1]
                    == .object([
                        "id": .integer(api.world.networkB.id), "name": .string("Network B"), "country": .string("GB"),
                    ]))

            let created = try await api.request(
                .post, "\(adminBase)/networks.json", token: admin, body: #"{"name":" Network C ","country":"ca"}"#)
            #expect(created.status == 201)
            let network = try #require(created.json["network"]?["id"]?.positiveID)
            #expect(
                created.json["network"]
                    == .object(["id": .integer(network), "name": .string("Network C"), "country": .string("CA")]))
            // Without the .json suffix, as every path.
            #expect(
                try await api.request(.get, "\(adminBase)/networks", token: admin).json["networks"]?.arrayValue?.count
                    == 3)

            let duplicate = try await api.request(
                .post, "\(adminBase)/networks.json", token: admin, body: #"{"name":"Network C"}"#)
            #expect(duplicate.status == 409)
            #expect(
                duplicate.json == .object(["errors": .object(["name": .array([.string("has already been taken")])])]))
            for (body, field, message) in [
                (#"{}"#, "name", "is required"), (#"{"name":5}"#, "name", "must be a string"),
                (#"{"name":null}"#, "name", "must be a string"),
                (#"{"name":""}"#, "name", "must be 1 to 255 characters"),
                (#"{"name":"X","country":"ZZ"}"#, "country", nil),
                (#"{"name":"X","colour":"red"}"#, "colour", "is not a member of this request"),
            ] {
                let refused = try await api.request(.post, "\(adminBase)/networks.json", token: admin, body: body)
                #expect(refused.status == 403, "\(body)")
                #expect(refused.errors(field).count == 1, "\(body): \(refused.text)")
                if let message { #expect(refused.errors(field) == [message]) }
            }
            #expect(try await api.request(.post, "\(adminBase)/networks.json", token: admin, body: "{").status == 400)

            let path = "\(adminBase)/networks/\(network)/advertisers.json"
            #expect(try await api.request(.get, path, token: admin).json == .object(["advertisers": .array([])]))
            let advertiser = try await api.request(
                .post, path, token: admin, body: #"{"name":"Bob's Plumbing","id_from_network":"BP-7"}"#)
            #expect(advertiser.status == 201)
            let advertiserID = try #require(advertiser.json["advertiser"]?["id"]?.positiveID)
            #expect(
                advertiser.json["advertiser"]
                    == .object([
                        "id": .integer(advertiserID), "network_id": .integer(network),
                        "name": .string("Bob's Plumbing"),
                        "id_from_network": .string("BP-7"),
                    ]))
            #expect(try await api.request(.get, path, token: admin).json["advertisers"]?.arrayValue?.count == 1)
            #expect(try await api.request(.post, path, token: admin, body: #"{"name":"Bob's Plumbing"}"#).status == 409)
            for unknown in [
                "\(adminBase)/networks/999999/advertisers.json", "\(adminBase)/networks/abc/advertisers.json",
            ] {
                let reply = try await api.request(.get, unknown, token: admin)
                #expect(
                    reply.status == 404 && reply.json == .object(["error": .string("RecordNotFound")]), "\(unknown)")
                #expect(try await api.request(.post, unknown, token: admin, body: #"{"name":"X"}"#).status == 404)
            }

            let renamed = try await api.request(
                .patch, "\(adminBase)/advertisers/\(advertiserID).json", token: admin, body: #"{"name":"Bob & Sons"}"#)
            #expect(renamed.status == 200)
            #expect(renamed.json["advertiser"]?["name"]?.stringValue == "Bob & Sons")
            #expect(renamed.json["advertiser"]?["id_from_network"]?.stringValue == "BP-7")
            let changedID = try await api.request(
                .patch, "\(adminBase)/advertisers/\(advertiserID)", token: admin, body: #"{"id_from_network":"BP-8"}"#)
            #expect(changedID.json["advertiser"]?["id_from_network"]?.stringValue == "BP-8")
            #expect(changedID.json["advertiser"]?["name"]?.stringValue == "Bob & Sons")
            #expect(
                try await api.request(
                    .patch, "\(adminBase)/advertisers/999999.json", token: admin, body: #"{"name":"Y"}"#
                ).status == 404)
            let taken = try await api.request(
                .patch, "\(adminBase)/advertisers/\(api.world.advertiserA2.id).json", token: admin,
                body: #"{"name":"A1"}"#)
            #expect(taken.status == 409 && taken.errors("name") == ["has already been taken"])
            let empty = try await api.request(
                .patch, "\(adminBase)/advertisers/\(advertiserID).json", token: admin, body: "{}")
            #expect(empty.status == 403 && empty.errors("name").count == 1)
        }
    }

    @Test(arguments: StoreBackend.available) func fields(_ backend: StoreBackend) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            let admin = api.world.tokens.admin
            let path = "\(adminBase)/networks/\(api.world.networkA.id)/fields.json"
            let listed = try await api.request(.get, path, token: admin)
            #expect(listed.status == 200)
            let stage = listed.json["fields"]?.arrayValue?.first { $0["name"]?.stringValue == "Stage" }
            #expect(
                stage
                    == .object([
                        "network_id": .integer(api.world.networkA.id), "name": .string("Stage"),
                        "data_type": .string("Category"),
                        "allowed_values": .array([.string("New"), .string("Won")]),
                    ]))
            let created = try await api.request(
                .post, path, token: admin, body: #"{"name":"Outcome","data_type":"Category","allowed_values":["Yes"]}"#)
            #expect(created.status == 201)
            #expect(created.json["field"]?["allowed_values"] == .array([.string("Yes")]))
            let cliSpelling = try await api.request(
                .post, path, token: admin, body: #"{"name":"Note 2","data_type":"long-text"}"#)
            #expect(cliSpelling.json["field"]?["data_type"]?.stringValue == "Long Text")
            #expect(
                try await api.request(.post, path, token: admin, body: #"{"name":"Outcome","data_type":"Signal"}"#)
                    .status == 409)
            let badType = try await api.request(.post, path, token: admin, body: #"{"name":"Z","data_type":"Colour"}"#)
            #expect(badType.status == 403 && badType.errors("data_type").count == 1)
            let valuesOnText = try await api.request(
                .post, path, token: admin, body: #"{"name":"Z","data_type":"Short Text","allowed_values":["a"]}"#)
            #expect(
                valuesOnText.status == 403 && valuesOnText.errors("allowed_values") == ["are only for category fields"])

            let outcome = "\(adminBase)/networks/\(api.world.networkA.id)/fields/Outcome.json"
            let added = try await api.request(
                .patch, outcome, token: admin, body: #"{"add_allowed_values":["No","Yes","Maybe"]}"#)
            #expect(added.status == 200)
            #expect(
                added.json["field"]?["allowed_values"] == .array([.string("Yes"), .string("No"), .string("Maybe")]))
            // A name with a space, percent-encoded; a field that is not a category takes no values.
            let text = try await api.request(
                .patch, "\(adminBase)/networks/\(api.world.networkA.id)/fields/Call%20Disposition.json", token: admin,
                body: #"{"add_allowed_values":["x"]}"#)
            #expect(text.status == 403 && text.errors("add_allowed_values") == ["are only for category fields"])
            #expect(
                try await api.request(
                    .patch, "\(adminBase)/networks/\(api.world.networkA.id)/fields/Nope.json", token: admin,
                    body: #"{"add_allowed_values":["x"]}"#
                ).status == 404)
            #expect(
                try await api.request(.patch, outcome, token: admin, body: #"{"add_allowed_values":[]}"#).status == 403)
            #expect(
                try await api.request(.patch, outcome, token: admin, body: #"{"add_allowed_values":[1]}"#).status == 403
            )
            #expect(try await api.request(.get, "\(adminBase)/networks/999999/fields.json", token: admin).status == 404)

            // The new value is accepted by the very next PUT on a call of the network.
            try await api.events(
                #"{"event":"call_bridged","transaction_id":"ADM-1","network_id":\#(api.world.networkA.id),"occurred_at":"2022-12-10T13:00:00Z","calling_phone_number":"530-999-9999","destination_phone_number":"855-559-5599"}"#
            )
            let put = try await api.update(
                "\(api.networkA)&transaction_id=ADM-1",
                #"{"call_in_progress":{"custom_data":[{"name":"Outcome","value":"Maybe"}]}}"#,
                token: api.world.tokens.networkA)
            #expect(put.status == 200, "\(put.text)")
        }
    }

    @Test(arguments: StoreBackend.available) func tokens(_ backend: StoreBackend) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            let admin = api.world.tokens.admin
            let listed = try await api.request(.get, "\(adminBase)/tokens.json", token: admin)
            #expect(listed.status == 200)
            let kinds = listed.json["tokens"]?.arrayValue?.compactMap { $0["kind"]?.stringValue } ?? []
            #expect(Set(kinds) == ["organization", "telephony", "admin"])
            for text in [admin, api.world.tokens.networkA, api.world.tokens.telephony] {
                #expect(!listed.text.contains(text))
            }

            let created = try await api.request(
                .post, "\(adminBase)/tokens.json", token: admin,
                body:
                    #"{"organization_type":"advertiser","id":\#(api.world.advertiserA1.id),"scope":"read","description":"CRM"}"#
            )
            #expect(created.status == 201)
            let token = try #require(created.json["token"]?["token"]?.stringValue)
            let tokenID = try #require(created.json["token"]?["id"]?.positiveID)
            #expect(created.json["token"]?["kind"]?.stringValue == "organization")
            #expect(created.json["token"]?["scope"]?.stringValue == "read")
            #expect(created.json["token"]?["organization_id"] == .integer(api.world.advertiserA1.id))
            let query = "id=\(api.world.advertiserA1.id)&organization_type=advertiser"
            #expect(try await api.find(query, token: token).status == 200)

            let telephony = try await api.request(
                .post, "\(adminBase)/tokens.json", token: admin, body: #"{"kind":"telephony"}"#)
            #expect(telephony.status == 201 && telephony.json["token"]?["kind"]?.stringValue == "telephony")
            let anotherAdmin = try await api.request(
                .post, "\(adminBase)/tokens.json", token: admin, body: #"{"kind":"admin"}"#)
            #expect(anotherAdmin.status == 403 && anotherAdmin.errors("kind").count == 1)
            #expect(
                try await api.request(
                    .post, "\(adminBase)/tokens.json", token: admin,
                    body: #"{"organization_type":"network","id":999999}"#
                ).status == 404)
            let bad = try await api.request(
                .post, "\(adminBase)/tokens.json", token: admin, body: #"{"organization_type":"planet","id":1}"#)
            #expect(bad.status == 403 && bad.errors("organization_type") == ["must be network or advertiser"])

            let revoked = try await api.request(.delete, "\(adminBase)/tokens/\(tokenID).json", token: admin)
            #expect(revoked.status == 200 && revoked.json["token"]?["revoked"] == .bool(true))
            #expect(!revoked.text.contains(token))
            try await Task.sleep(for: .milliseconds(600))  // past the token cache's age (SPEC 2.1: within a second)
            #expect(try await api.find(query, token: token).status == 401)
            #expect(try await api.request(.delete, "\(adminBase)/tokens/999999.json", token: admin).status == 404)
        }
    }

    /// No other kind of token is accepted on admin paths, and an admin token nowhere else.
    @Test(arguments: StoreBackend.available) func tokenKindsAreKeptApart(_ backend: StoreBackend) async throws {
        try await withAPI(backend: backend) { (api: APITester) async throws in
            let tokens = api.world.tokens
            let adminPaths: [(HTTPRequest.Method, String, String?)] = [
                (.get, "\(adminBase)/networks.json", nil), (.post, "\(adminBase)/networks.json", #"{"name":"Z"}"#),
                (.get, "\(adminBase)/networks/\(api.world.networkA.id)/advertisers.json", nil),
                (.patch, "\(adminBase)/advertisers/\(api.world.advertiserA1.id).json", #"{"name":"Z"}"#),
                (.get, "\(adminBase)/tokens.json", nil), (.delete, "\(adminBase)/tokens/1.json", nil),
            ]
            for token in [tokens.networkA, tokens.advertiserA1, tokens.telephony, tokens.revoked, "nonsense", ""] {
                for (method, path, body) in adminPaths {
                    let reply = try await api.request(method, path, token: token.isEmpty ? nil : token, body: body)
                    #expect(
                        reply.status == 401 && reply.json == .object(["error": .string("NotAuthorized")]),
                        "\(method) \(path)")
                }
            }
            #expect(try await api.find(api.networkA, token: tokens.admin).status == 401)
            #expect(
                try await api.update(
                    "\(api.networkA)&transaction_id=X", #"{"call_in_progress":{"external_unique_id":"x"}}"#,
                    token: tokens.admin
                ).status == 401)
            #expect(try await api.events(#"{"events":[]}"#, token: tokens.admin).status == 401)
            #expect(
                try await api.request(.get, "\(base)/calls_in_progress/stream?\(api.networkA)", token: tokens.admin)
                    .status == 401)
            // Nothing was created by the refused requests.
            #expect(try await api.world.store.loadCatalog().networks.count == 2)
        }
    }

    /// One `notice` line per admin request: the admin token's id, the action, the target; never a token.
    @Test func everyAdminRequestIsAudited() async throws {
        let world = try await Fixture.make()
        let captured = CapturedLog()
        var logger = Logger(label: "cip-test") { captured.handler(label: $0) }
        logger.logLevel = .notice
        let app = Application(
            router: buildRouter(services: APIServices(store: world.store, settings: APISettings())), logger: logger)
        let adminID = try #require(try await world.store.token(hash: TokenHash(of: world.tokens.admin))?.id)
        let created = try await app.test(.router) { client -> String in
            let reply = try await client.executeRequest(
                uri: "\(adminBase)/tokens.json", method: .post,
                headers: [.authorization: world.tokens.admin, .contentType: "application/json"],
                body: ByteBuffer(string: #"{"kind":"telephony"}"#))
            let created = JSONValue.parse(String(buffer: reply.body))?["token"]?["token"]?.stringValue ?? ""
            _ = try await client.executeRequest(
                uri: "\(adminBase)/advertisers/\(world.advertiserA2.id).json", method: .patch,
                headers: [.authorization: world.tokens.admin, .contentType: "application/json"],
                body: ByteBuffer(string: #"{"name":"A2 renamed"}"#))
            return created
        }
        let lines = captured.lines.withLock { $0 }.filter { $0.contains("admin request") }
        #expect(lines.count == 2)
        #expect(lines.allSatisfy { $0.hasPrefix("notice") && $0.contains(#""admin_token_id": \#(adminID)"#) })
        #expect(lines.contains { $0.contains(#""action": token.create"#) })
        #expect(
            lines.contains {
                $0.contains(#""action": advertiser.update"#) && $0.contains(#""target_id": \#(world.advertiserA2.id)"#)
            })
        #expect(!created.isEmpty)
        let all = captured.lines.withLock { $0 }
        #expect(!all.contains { $0.contains(world.tokens.admin) || $0.contains(created) })
    }
}
