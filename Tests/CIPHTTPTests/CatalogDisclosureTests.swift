import CIPDomain
import CIPHTTP
import CIPStore
import CIPTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// SPEC 2.1: a 401 does not say whether an organization exists — not in its body, its headers, nor
/// in the path it takes (issue 9, item 5: an unknown id used to reload the catalog from the database,
/// taking twice as long as an existing organization that is not the caller's).
@Suite("Nothing is revealed about organizations a token may not see")
struct CatalogDisclosureTests {
    @Test func unknownAndForeignOrganizationsAreAnsweredFromMemoryAlike() async throws {
        let folder = try TemporaryFolder.make()
        let path = folder.appendingPathComponent("catalog.sqlite").path
        let database = try SQLiteDatabase(path: path)
        try await database.migrate()
        let store = try await database.serve()
        let world = try await Fixture.make(in: store)
        let app = Application(
            router: buildRouter(services: APIServices(store: store, settings: APISettings())), logger: quietTestLogger)
        try await app.test(.router) { client in
            let api = APITester(client: client, world: world)
            #expect(try await api.find(api.networkA, token: world.tokens.networkA).status == 200)
            // From here on, a request that reloads the catalog fails with a 500: every answer below
            // must come from what the server already holds.
            try sqlite(
                path,
                "ALTER TABLE networks RENAME TO networks_gone; ALTER TABLE advertisers RENAME TO advertisers_gone;")

            let pairs: [(token: String, foreign: String, unknown: String)] = [
                (
                    world.tokens.networkA, "id=\(world.networkB.id)&organization_type=network",
                    "id=987654&organization_type=network"
                ),
                (
                    world.tokens.networkA, "id=\(world.advertiserB1.id)&organization_type=advertiser",
                    "id=987654&organization_type=advertiser"
                ),
                (
                    world.tokens.advertiserA1, "id=\(world.advertiserA2.id)&organization_type=advertiser",
                    "id=987654&organization_type=advertiser"
                ),
                (
                    world.tokens.advertiserA1, "id=\(world.networkA.id)&organization_type=network",
                    "id=987654&organization_type=network"
                ),
            ]
            for pair in pairs {
                let foreign = try await api.find(pair.foreign, token: pair.token)
                let unknown = try await api.find(pair.unknown, token: pair.token)
                #expect(foreign.status == 401)
                #expect(unknown.status == foreign.status)
                #expect(unknown.text == foreign.text)
                #expect(Self.comparable(unknown.headers) == Self.comparable(foreign.headers))

                let body = #"{"call_in_progress":{"custom_data":[{"name":"no such field","value":"x"}]}}"#
                let foreignUpdate = try await api.update(pair.foreign + "&transaction_id=T1", body, token: pair.token)
                let unknownUpdate = try await api.update(pair.unknown + "&transaction_id=T1", body, token: pair.token)
                #expect(foreignUpdate.status == 401)
                #expect(unknownUpdate.status == 401)
                #expect(unknownUpdate.text == foreignUpdate.text)
            }
        }
    }

    private static func comparable(_ headers: HTTPFields) -> [String] {
        headers.filter { $0.name != .date }.map { "\($0.name): \($0.value)" }.sorted()
    }

    private func sqlite(_ path: String, _ sql: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        process.arguments = [path, sql]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
    }
}
