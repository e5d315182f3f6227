import CIPDomain
import CIPTestSupport
import Logging
import PostgresNIO
import Testing

@testable import CIPStore

/// An operation whose connection closes under it is answered as an outage at once, not at its
/// statement deadline: after a `kill -9` of PostgreSQL, a query on a connection that has just closed
/// may never be answered (postgres-nio 1.33.2), and the crash campaign's requests in flight then
/// took the whole 10-s deadline.
@Suite(
    "PostgreSQL: operations whose connection closes",
    .enabled(if: StoreBackend.postgresURL != nil, "needs CIP_TEST_POSTGRES_URL"))
struct PostgresInFlightOutageTests {
    @Test func anOperationWhoseConnectionClosesIsGivenUpAtOnce() async throws {
        let url = try await StoreBackend.freshPostgresDatabase()
        let database = try StoreBackend.postgresDatabase(url, statementDeadline: .seconds(60))
        database.runPoolUntilReleased()

        let inFlight = Task {
            try await database.guarded { connection, _ in
                _ = try await connection.query("SELECT 1 AS marked_in_flight", logger: database.logger).collect()
                // Stands for the query that is never answered; without the watch it would end in 20 s.
                try await Task.sleep(for: .seconds(20))
                return 1
            }
        }
        // The server ends that session, as it ends every session when PostgreSQL is killed.
        let observer = try StoreBackend.postgresDatabase(url, label: "test.postgres.observer")
        observer.runPoolUntilReleased()
        let findSession = "FROM pg_stat_activity WHERE query = 'SELECT 1 AS marked_in_flight'"
        let deadline = ContinuousClock.now + .seconds(30)
        while try await Self.count("SELECT count(*) \(findSession)", observer) != 1, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        try #require(try await Self.count("SELECT count(pg_terminate_backend(pid)) \(findSession)", observer) == 1)

        await #expect(throws: DomainError.unavailable) { try await inFlight.value }
    }

    /// The integer `sql` answers, on a connection of `observer`'s.
    static func count(_ sql: String, _ observer: CIPStore.PostgresDatabase) async throws -> Int64 {
        try await observer.guarded { connection, _ in
            var count: Int64 = 0
            for try await value in try await connection.query(PostgresQuery(unsafeSQL: sql), logger: observer.logger)
                .decode(Int64.self)
            {
                count = value
            }
            return count
        }
    }
}
