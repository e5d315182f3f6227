import CIPDomain
import CIPTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `cip serve` and `cip admin` as separate processes, as users run them.
@Suite("The cip process: durability, shutdown, admin (SPEC 6, 7)", .serialized)
struct ProcessLifecycleTests {
    struct World {
        let database: String
        let network: Int64
        let orgToken: String
        let telephonyToken: String
    }

    static func makeWorld() throws -> World {
        let database = try TemporaryFolder.make().appendingPathComponent("cip.sqlite").path
        let network = try CIPBinary.admin(["network", "create", "--name", "Crash Test"], database: database)
        let networkID = try #require(network["id"]?.positiveID)
        _ = try CIPBinary.admin(
            ["field", "create", "--network", String(networkID), "--name", "Stage", "--type", "short-text"],
            database: database)
        let org = try CIPBinary.admin(
            ["token", "create", "--organization-type", "network", "--id", String(networkID)], database: database)
        let telephony = try CIPBinary.admin(["token", "create", "--telephony"], database: database)
        return World(
            database: database, network: networkID, orgToken: try #require(org["token"]?.stringValue),
            telephonyToken: try #require(telephony["token"]?.stringValue))
    }

    @Test func acknowledgedWritesSurviveSIGKILL() async throws {
        let world = try Self.makeWorld()
        let server = try ServerProcess(database: world.database)
        try await server.waitUntilUp()
        let api = "\(server.baseURL)/api/2022-08-01"
        var acknowledged: [String: String] = [:]
        for index in 0..<20 {
            let event =
                #"{"event":"call_bridged","transaction_id":"K\#(index)","network_id":\#(world.network),"occurred_at":"2022-12-10T13:00:00Z","calling_phone_number":"530-999-\#(1000 + index)","destination_phone_number":"855-559-5599"}"#
            let (status, reply) = try await HTTP.send(
                "POST", "\(api)/telephony/call_events.json", token: world.telephonyToken, body: event)
            #expect(status == 200 && reply["results"]?[0]?["status"]?.stringValue == "applied")
            let update =
                #"{"call_in_progress":{"external_unique_id":"ext-\#(index)","custom_data":[{"name":"Stage","value":"s\#(index)"}]}}"#
            let (updateStatus, _) = try await HTTP.send(
                "PUT",
                "\(api)/calls_in_progress.json?id=\(world.network)&organization_type=network&transaction_id=K\(index)",
                token: world.orgToken, body: update)
            if updateStatus == 200 { acknowledged["K\(index)"] = "s\(index)" }
        }
        let ended =
            #"{"event":"call_ended","transaction_id":"K0","network_id":\#(world.network),"occurred_at":"2022-12-10T13:05:00Z"}"#
        let (endStatus, _) = try await HTTP.send(
            "POST", "\(api)/telephony/call_events.json", token: world.telephonyToken, body: ended)
        #expect(endStatus == 200)
        server.kill(SIGKILL)
        #expect(await server.waitForExit() != 0)

        let restarted = try ServerProcess(database: world.database)
        defer { restarted.kill(SIGKILL) }
        try await restarted.waitUntilUp()
        let (status, found) = try await HTTP.send(
            "GET",
            "\(restarted.baseURL)/api/2022-08-01/calls_in_progress/current_calls.json?id=\(world.network)&organization_type=network",
            token: world.orgToken)
        #expect(status == 200)
        let calls = found["current_calls"]?.arrayValue ?? []
        #expect(acknowledged.count == 20)
        #expect(calls.count == 19)
        for call in calls {
            let id = try #require(call["transaction_id"]?.stringValue)
            #expect(call["custom_data"]?["Stage"]?["value"]?.stringValue == acknowledged[id])
            #expect(call["external_unique_id"]?.stringValue == "ext-" + id.dropFirst())
        }
        // The acknowledged end survived too: K0 stays ended.
        #expect(!calls.contains { $0["transaction_id"]?.stringValue == "K0" })
    }

    @Test func sigtermStopsCleanlyWithExitZero() async throws {
        let world = try Self.makeWorld()
        let server = try ServerProcess(database: world.database)
        try await server.waitUntilUp()
        server.kill(SIGTERM)
        #expect(await server.waitForExit() == 0)
    }

    /// A live call's last change must stay in the change log: a long --call-expiry moves the default
    /// retention with it, and a shorter retention given explicitly is refused.
    @Test func changeRetentionFollowsALongCallExpiry() async throws {
        let world = try Self.makeWorld()
        let refused = try CIPBinary.run(
            ["serve", "--port", "0", "--database", world.database, "--call-expiry", "2h", "--change-retention", "1h"])
        #expect(refused.status != 0)
        #expect(refused.err.contains("--change-retention must be at least --call-expiry"))
        let server = try ServerProcess(database: world.database, arguments: ["--call-expiry", "30d"])
        defer { server.kill(SIGKILL) }
        try await server.waitUntilUp()
    }

    @Test func aSecondServerOnOneSQLiteFileExitsWithOneLine() async throws {
        let world = try Self.makeWorld()
        let server = try ServerProcess(database: world.database)
        defer { server.kill(SIGKILL) }
        try await server.waitUntilUp()
        let second = try CIPBinary.run(["serve", "--port", "0", "--database", world.database, "--log-level", "error"])
        #expect(second.status != 0)
        #expect(
            second.err
                == "cip: another cip server is already serving \(world.database); several nodes need a shared PostgreSQL database\n"
        )
        // The first server is unharmed, and admin commands still work beside it.
        #expect(try await HTTP.send("GET", "\(server.baseURL)/health").0 == 200)
        _ = try CIPBinary.admin(["network", "create", "--name", "Beside"], database: world.database)
    }

    @Test func revocationThroughTheCLIReachesTheRunningServer() async throws {
        let world = try Self.makeWorld()
        let server = try ServerProcess(database: world.database)
        defer { server.kill(SIGKILL) }
        try await server.waitUntilUp()
        let url =
            "\(server.baseURL)/api/2022-08-01/calls_in_progress/current_calls.json?id=\(world.network)&organization_type=network"
        #expect(try await HTTP.send("GET", url, token: world.orgToken).0 == 200)
        let revoked = try CIPBinary.admin(["token", "revoke", "--token", world.orgToken], database: world.database)
        #expect(revoked["revoked"]?.boolValue == true)
        try await Task.sleep(for: .seconds(1))
        #expect(try await HTTP.send("GET", url, token: world.orgToken).0 == 401)
    }

    @Test func adminCommandsPrintJSONLinesAndFailWithOneLine() throws {
        let database = try TemporaryFolder.make().appendingPathComponent("admin.sqlite").path
        let network = try CIPBinary.admin(["network", "create", "--name", "N", "--country", "gb"], database: database)
        #expect(network == .object(["id": .integer(1), "name": .string("N"), "country": .string("GB")]))
        let advertiser = try CIPBinary.admin(
            ["advertiser", "create", "--network", "1", "--name", "A", "--id-from-network", "X7"], database: database)
        #expect(advertiser["network_id"] == .integer(1) && advertiser["id_from_network"]?.stringValue == "X7")
        let field = try CIPBinary.admin(
            [
                "field", "create", "--network", "1", "--name", "Stage", "--type", "category", "--allowed-value", "New",
                "--allowed-value", "Won",
            ], database: database)
        #expect(
            field["data_type"]?.stringValue == "Category"
                && field["allowed_values"] == .array([.string("New"), .string("Won")]))
        let token = try CIPBinary.admin(
            [
                "token", "create", "--organization-type", "advertiser", "--id", "1", "--scope", "read", "--description",
                "crm",
            ], database: database)
        #expect(token["organization_type"]?.stringValue == "advertiser" && token["scope"]?.stringValue == "read")
        let telephony = try CIPBinary.admin(["token", "create", "--telephony"], database: database)
        #expect(telephony["kind"]?.stringValue == "telephony")

        let list = try CIPBinary.run(["admin", "token", "list", "--database", database])
        let lines = list.out.split(separator: "\n").compactMap { JSONValue.parse(String($0)) }
        #expect(lines.count == 2)
        #expect(lines[0]["description"]?.stringValue == "crm" && lines[0]["revoked"] == .bool(false))
        #expect(!list.out.contains(token["token"]?.stringValue ?? "?"))
        let revoked = try CIPBinary.admin(["token", "revoke", "--id", "2"], database: database)
        #expect(revoked == .object(["id": .integer(2), "revoked": .bool(true)]))

        let failures: [[String]] = [
            ["network", "create", "--name", "N"],
            ["network", "create", "--name", "M", "--country", "ZZ"],
            ["network", "create"],
            ["advertiser", "create", "--network", "99", "--name", "A"],
            ["advertiser", "create", "--network", "1", "--name", "A"],
            ["field", "create", "--network", "1", "--name", "Stage", "--type", "signal"],
            ["field", "create", "--network", "1", "--name", "F", "--type", "number"],
            ["token", "create", "--organization-type", "network", "--id", "42"],
            ["token", "create", "--organization-type", "agency", "--id", "1"],
            ["token", "revoke", "--id", "99"],
            // Control characters are refused in every stored string (issue 9, item 6).
            ["network", "create", "--name", "Bad\u{07}Name"],
            ["advertiser", "create", "--network", "1", "--name", "B", "--id-from-network", "X\u{7F}Y"],
            ["field", "create", "--network", "1", "--name", "C", "--type", "category", "--allowed-value", "a\nb"],
            ["token", "create", "--telephony", "--description", "line\u{1B}[2J"],
        ]
        for arguments in failures {
            let result = try CIPBinary.run(["admin"] + arguments + ["--database", database])
            #expect(result.status != 0, "\(arguments)")
            #expect(result.out.isEmpty, "\(arguments)")
            #expect(result.err.split(separator: "\n").count == 1, "\(arguments): \(result.err)")
        }
    }
}
