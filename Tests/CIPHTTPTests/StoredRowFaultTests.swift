import CIPDomain
import CIPHTTP
import CIPOperations
import CIPStore
import CIPTestSupport
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
import Testing

/// A row that does not hold what the schema promises is a fault of the service (500 with a handle,
/// counted), not an outage (503): errors are classified once per backend.
@Suite("Stored rows that do not decode")
struct StoredRowFaultTests {
    @Test(arguments: StoreBackend.available)
    func aRowThatDoesNotDecodeIs500WithAHandleAndCounted(_ backend: StoreBackend) async throws {
        let store: any ServingStore
        let corrupt: (String) async throws -> Void
        switch backend {
        case .sqlite:
            let path = try TemporaryFolder.make().appendingPathComponent("cip.sqlite").path
            let database = try SQLiteDatabase(path: path)
            try await database.migrate()
            store = try await database.serve()
            corrupt = { sql in
                let sqlite = Process()
                sqlite.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
                sqlite.arguments = [path, sql]
                try sqlite.run()
                sqlite.waitUntilExit()
            }
        case .postgres:
            let database = try StoreBackend.postgresDatabase(try await StoreBackend.freshPostgresDatabase())
            database.runPoolUntilReleased()
            try await database.migrate()
            store = PostgresCallStore(database: database)
            corrupt = { sql in try await database.client.query(PostgresQuery(unsafeSQL: sql)) }
        }
        let network = try await store.createNetwork(name: "N", country: "US")
        let text = "cip_corrupt"
        _ = try await store.createToken(
            hash: TokenHash(of: text), kind: .organization, organization: .init(type: .network, id: network.id),
            scope: .write, description: nil, createdAt: .now())
        try await corrupt("UPDATE tokens SET scope = 'everything'")

        let metrics = ServiceMetrics()
        let app = Application(
            router: buildRouter(services: APIServices(store: store, settings: APISettings(), metrics: metrics)),
            logger: quietTestLogger)
        try await app.test(.router) { client in
            let response = try await client.executeRequest(
                uri: "/api/2022-08-01/calls_in_progress/current_calls.json?id=\(network.id)&organization_type=network",
                method: .get, headers: [.authorization: text], body: nil)
            #expect(response.status.code == 500)
            let json = JSONValue.parse(String(buffer: response.body))
            #expect(json?["errors"]?["class"]?.stringValue == "InternalServiceError")
            #expect(json?["errors"]?["invalid_data"]?.stringValue?.hasPrefix("refer to error handle ") == true)
        }
        #expect(MetricsTests.value(metrics.render(), "cip_database_errors_total") == 1)
    }
}
