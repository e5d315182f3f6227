import CIPDomain
import PostgresNIO

/// The rows and notifications of read leases (`ReadLease`, migration v7).
extension PostgresDatabase {
    /// Holds `node`'s lease until `duration` after the database runs this statement.
    func renewLease(_ node: String, for duration: Duration) async throws {
        let seconds = Double(duration.wholeMilliseconds) / 1000
        _ = try await guarded { connection, _ in
            try await connection.query(
                """
                INSERT INTO read_leases (node_id, lease_until) VALUES (\(node), now() + make_interval(secs => \(seconds)))
                ON CONFLICT (node_id) DO UPDATE SET lease_until = excluded.lease_until
                """, logger: self.logger
            ).collect().count
        }
    }

    /// Gives the lease up (a node shutting down), and forgets leases that ended a day ago (nodes that
    /// were killed; each start takes a new id).
    func releaseLease(_ node: String) async throws {
        _ = try await guarded { connection, _ in
            try await connection.query(
                "DELETE FROM read_leases WHERE node_id = \(node) OR lease_until < now() - interval '1 day'",
                logger: self.logger
            ).collect().count
        }
    }

    /// Tells every node that `node` has applied the log through `sequence`.
    func announceApplied(_ node: String, through sequence: Int64) async throws {
        _ = try await guarded { connection, _ in
            try await connection.query("SELECT pg_notify('cip_applied', \("\(node) \(sequence)"))", logger: self.logger)
                .collect().count
        }
    }

    /// The log's head and the leases held, read in one statement.
    func leaseCheck() async throws -> LeaseCheck {
        let rows = try await guarded { connection, _ in
            try await connection.rows(
                """
                SELECT change_log.last_sequence AS head, read_leases.node_id AS node,
                    (EXTRACT(EPOCH FROM read_leases.lease_until - now()) * 1000)::bigint AS remaining
                FROM change_log LEFT JOIN read_leases ON read_leases.lease_until > now()
                """, [], self.logger)
        }
        let checkedAt = ContinuousClock.now
        var head: Int64 = 0
        var holders: [LeaseCheck.Holder] = []
        for row in rows {
            head = try row.requiredInteger("head")
            if let node = try row.text("node") {
                holders.append(.init(node: node, remaining: .milliseconds(try row.requiredInteger("remaining"))))
            }
        }
        return LeaseCheck(head: head, holders: holders, checkedAt: checkedAt)
    }
}
