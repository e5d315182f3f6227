import CIPDomain
import CIPTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// SPEC 6's listing and update commands, `cip --version` and the admin groups' help, through the
/// real binary.
@Suite("cip admin: listing, updates, version (SPEC 6)")
struct AdminCLITests {
    static func lines(_ arguments: [String], database: String) throws -> [JSONValue] {
        let result = try CIPBinary.run(["admin"] + arguments + ["--database", database])
        #expect(result.status == 0, "\(arguments): \(result.err)")
        return result.out.split(separator: "\n").compactMap { JSONValue.parse(String($0)) }
    }

    @Test func listsAndUpdates() throws {
        let database = try TemporaryFolder.make().appendingPathComponent("admin.sqlite").path
        _ = try CIPBinary.admin(["network", "create", "--name", "N1"], database: database)
        _ = try CIPBinary.admin(["network", "create", "--name", "N2", "--country", "GB"], database: database)
        _ = try CIPBinary.admin(["advertiser", "create", "--network", "1", "--name", "A"], database: database)
        _ = try CIPBinary.admin(["advertiser", "create", "--network", "2", "--name", "B"], database: database)
        _ = try CIPBinary.admin(
            ["field", "create", "--network", "1", "--name", "Stage", "--type", "category", "--allowed-value", "New"],
            database: database)
        _ = try CIPBinary.admin(
            ["field", "create", "--network", "1", "--name", "Notes", "--type", "long-text"], database: database)

        #expect(
            try Self.lines(["network", "list"], database: database) == [
                .object(["id": .integer(1), "name": .string("N1"), "country": .string("US")]),
                .object(["id": .integer(2), "name": .string("N2"), "country": .string("GB")]),
            ])
        #expect(try Self.lines(["advertiser", "list"], database: database).count == 2)
        #expect(
            try Self.lines(["advertiser", "list", "--network", "2"], database: database) == [
                .object([
                    "id": .integer(2), "network_id": .integer(2), "name": .string("B"), "id_from_network": .null,
                ])
            ])
        #expect(
            try Self.lines(["field", "list", "--network", "1"], database: database).compactMap {
                $0["name"]?.stringValue
            } == ["Notes", "Stage"])

        let renamed = try CIPBinary.admin(
            ["advertiser", "update", "--id", "1", "--name", "A Renamed", "--id-from-network", "X-1"], database: database
        )
        #expect(
            renamed
                == .object([
                    "id": .integer(1), "network_id": .integer(1), "name": .string("A Renamed"),
                    "id_from_network": .string("X-1"),
                ]))
        let extended = try CIPBinary.admin(
            [
                "field", "update", "--network", "1", "--name", "Stage", "--add-allowed-value", "Won",
                "--add-allowed-value", "New",
            ],
            database: database)
        #expect(extended["allowed_values"] == .array([.string("New"), .string("Won")]))
        let admin = try CIPBinary.admin(
            ["token", "create", "--admin", "--description", "provisioning"], database: database)
        #expect(admin["kind"]?.stringValue == "admin" && admin["token"]?.stringValue?.hasPrefix("cip_") == true)
        #expect(try Self.lines(["token", "list"], database: database).first?["kind"]?.stringValue == "admin")

        let failures: [([String], String)] = [
            (["advertiser", "update", "--id", "99", "--name", "X"], "advertiser 99 does not exist"),
            (["advertiser", "update", "--id", "1"], "--name must be given"),
            (["advertiser", "update", "--id", "1", "--name", ""], "--name must be 1 to 255 characters"),
            (["advertiser", "list", "--network", "9"], "network 9 does not exist"),
            (["field", "list", "--network", "9"], "network 9 does not exist"),
            (
                ["field", "update", "--network", "1", "--name", "Notes", "--add-allowed-value", "x"],
                "--add-allowed-value"
            ),
            (["field", "update", "--network", "1", "--name", "Stage"], "--add-allowed-value is required"),
            (["field", "update", "--network", "1", "--name", "Nope", "--add-allowed-value", "x"], "does not exist"),
            (["token", "create", "--admin", "--telephony"], "at most one"),
            (["token", "create", "--admin", "--organization-type", "network", "--id", "1"], "--admin takes no"),
        ]
        for (arguments, message) in failures {
            let result = try CIPBinary.run(["admin"] + arguments + ["--database", database])
            #expect(result.status != 0, "\(arguments)")
            #expect(result.out.isEmpty, "\(arguments)")
            #expect(
                result.err.split(separator: "\n").count == 1 && result.err.contains(message),
                "\(arguments): \(result.err)")
        }
    }

    /// A rename through the CLI reaches the live calls whether a server is running (it notices) or
    /// not (the command carries it itself).
    @Test func aRenameThroughTheCLIReachesLiveCallsWithOrWithoutAServer() async throws {
        let database = try TemporaryFolder.make().appendingPathComponent("rename.sqlite").path
        _ = try CIPBinary.admin(["network", "create", "--name", "N"], database: database)
        _ = try CIPBinary.admin(["advertiser", "create", "--network", "1", "--name", "Before"], database: database)
        let org = try #require(
            try CIPBinary.admin(
                ["token", "create", "--organization-type", "network", "--id", "1"], database: database)[
                    "token"]?.stringValue)
        let telephony = try #require(
            try CIPBinary.admin(["token", "create", "--telephony"], database: database)["token"]?.stringValue)
        var server = try ServerProcess(database: database)
        defer { server.kill(SIGKILL) }
        try await server.waitUntilUp()
        func name() async throws -> String? {
            let (_, reply) = try await HTTP.send(
                "GET",
                "\(server.baseURL)/api/2022-08-01/calls_in_progress/current_calls.json?id=1&organization_type=network",
                token: org)
            return reply["current_calls"]?[0]?["advertiser_name"]?.stringValue
        }
        let event =
            #"{"event":"call_bridged","transaction_id":"CLI-RENAME","network_id":1,"advertiser_id":1,"occurred_at":"2022-12-10T13:00:00Z","calling_phone_number":"530-999-9999","destination_phone_number":"855-559-5599"}"#
        _ = try await HTTP.send(
            "POST", "\(server.baseURL)/api/2022-08-01/telephony/call_events.json", token: telephony, body: event)
        #expect(try await name() == "Before")

        _ = try CIPBinary.admin(["advertiser", "update", "--id", "1", "--name", "While Serving"], database: database)
        var seen: String?
        let carriedBy = ContinuousClock.now + .seconds(30)
        while seen != "While Serving", ContinuousClock.now < carriedBy {
            seen = try await name()
            if seen != "While Serving" { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(seen == "While Serving", "the running server carries a rename made by the CLI")

        server.kill(SIGTERM)
        _ = await server.waitForExit()
        _ = try CIPBinary.admin(["advertiser", "update", "--id", "1", "--name", "While Stopped"], database: database)
        server = try ServerProcess(database: database)
        try await server.waitUntilUp()
        #expect(try await name() == "While Stopped", "the CLI carries a rename made while no server runs")
    }

    @Test func versionAndHelp() throws {
        let version = try CIPBinary.run(["--version"])
        #expect(version.status == 0)
        #expect(
            version.out.trimmingCharacters(in: .whitespacesAndNewlines).range(
                of: #"^\d+\.\d+\.\d+$"#, options: .regularExpression) != nil, "\(version.out)")
        let help = try CIPBinary.run(["admin", "--help"])
        for (group, abstract) in [
            ("network", "Create and list networks."), ("advertiser", "Create, list and update advertisers."),
            ("field", "Define, list and extend custom data fields."), ("token", "Create, list and revoke"),
            ("calls", "Export completed calls"),
        ] {
            #expect(help.out.contains(group) && help.out.contains(abstract), "\(group)")
        }
    }
}
