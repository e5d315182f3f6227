import Logging
import PostgresNIO
import ServiceLifecycle

/// Rings the change bell when any node's sequencer numbers changes (its `NOTIFY cip_changes`), so
/// this node's change stream learns of changes committed elsewhere at once. The follower also polls,
/// so a notification lost in an outage only delays a change.
public final class ChangeListener: Service, Sendable {
    private let database: PostgresDatabase
    private let bell: ChangeBell

    init(database: PostgresDatabase, bell: ChangeBell) {
        self.database = database
        self.bell = bell
    }

    public func run() async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await self.database.client.withConnection { connection in
                        try await connection.listen(on: "cip_changes") { notifications in
                            // Anything numbered before the subscription is read by the follower now.
                            self.bell.ring()
                            for try await _ in notifications { self.bell.ring() }
                        }
                    }
                } catch {
                    self.database.logger.debug("change listener lost its connection", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}
