import Logging
import PostgresNIO
import ServiceLifecycle

/// Rings the change bell when any node's sequencer numbers changes (its `NOTIFY cip_changes`), so
/// this node's change stream learns of changes committed elsewhere at once. The follower also polls,
/// so a notification lost in an outage only delays a change. On the same connection it hears what
/// each node has applied (`NOTIFY cip_applied`, `ReadLease`), which this node's writes wait for.
public final class ChangeListener: Service, Sendable {
    private let database: PostgresDatabase
    private let bell: ChangeBell
    let peers = PeerProgress()

    init(database: PostgresDatabase, bell: ChangeBell) {
        self.database = database
        self.bell = bell
    }

    public func run() async {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await self.database.client.withConnection { connection in
                        try await connection.listen(on: "cip_applied") { announcements in
                            try await connection.listen(on: "cip_changes") { notifications in
                                try await self.hear(notifications, announcements)
                            }
                        }
                    }
                } catch {
                    self.database.logger.debug("change listener lost its connection", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    private func hear(
        _ notifications: PostgresNotificationSequence, _ announcements: PostgresNotificationSequence
    ) async throws {
        // Anything numbered before the subscription is read by the follower now.
        bell.ring()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for try await _ in notifications { self.bell.ring() }
            }
            group.addTask {
                for try await announcement in announcements { self.peers.heard(announcement.payload) }
            }
            // Either sequence ending means the connection is gone: listen again on a new one.
            _ = try await group.next()
            group.cancelAll()
        }
    }
}
