import GRDB

/// The versioned schema of the SQLite store. Append new migrations; never edit an applied one.
enum SQLiteMigrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-catalog-tokens-calls") { db in
            try db.execute(
                sql: """
                    CREATE TABLE networks (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        name TEXT NOT NULL UNIQUE,
                        country TEXT NOT NULL
                    );
                    CREATE TABLE advertisers (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        network_id INTEGER NOT NULL REFERENCES networks(id),
                        name TEXT NOT NULL,
                        id_from_network TEXT,
                        UNIQUE (network_id, name)
                    );
                    CREATE TABLE custom_data_fields (
                        network_id INTEGER NOT NULL REFERENCES networks(id),
                        name TEXT NOT NULL,
                        data_type TEXT NOT NULL,
                        allowed_values TEXT NOT NULL,
                        PRIMARY KEY (network_id, name)
                    );
                    CREATE TABLE tokens (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        hash TEXT NOT NULL UNIQUE,
                        kind TEXT NOT NULL,
                        organization_type TEXT,
                        organization_id INTEGER,
                        scope TEXT NOT NULL,
                        description TEXT,
                        created_at INTEGER NOT NULL,
                        revoked_at INTEGER
                    );
                    CREATE TABLE calls (
                        transaction_id TEXT PRIMARY KEY,
                        network_id INTEGER NOT NULL,
                        advertiser_id INTEGER,
                        live INTEGER NOT NULL,
                        call_status TEXT NOT NULL,
                        external_unique_id TEXT,
                        calling_phone_number TEXT NOT NULL,
                        destination_phone_number TEXT NOT NULL,
                        call_start INTEGER NOT NULL,
                        transfer_start INTEGER NOT NULL,
                        attributes TEXT NOT NULL,
                        custom_data TEXT NOT NULL,
                        last_event_at INTEGER NOT NULL,
                        last_received_at INTEGER NOT NULL,
                        ended_at INTEGER,
                        end_reason TEXT
                    );
                    -- SPEC 2.4: an external id is unique among a network's live calls; the index, not a
                    -- check before the write, is what holds under concurrent requests.
                    CREATE UNIQUE INDEX calls_live_external_id ON calls (network_id, external_unique_id)
                        WHERE live = 1 AND external_unique_id IS NOT NULL;
                    CREATE INDEX calls_live_network ON calls (network_id, transfer_start DESC) WHERE live = 1;
                    CREATE INDEX calls_live_advertiser ON calls (advertiser_id, transfer_start DESC) WHERE live = 1;
                    CREATE INDEX calls_live_phones ON calls (calling_phone_number, destination_phone_number)
                        WHERE live = 1;
                    CREATE INDEX calls_live_received ON calls (last_received_at) WHERE live = 1;
                    CREATE INDEX calls_ended ON calls (ended_at) WHERE live = 0;
                    CREATE TABLE call_events (
                        transaction_id TEXT NOT NULL,
                        event TEXT NOT NULL,
                        occurred_at INTEGER NOT NULL,
                        PRIMARY KEY (transaction_id, event, occurred_at)
                    ) WITHOUT ROWID;
                    """)
        }
        migrator.registerMigration("v2-completed-call-retention") { db in
            // Retention counts from when the service received the end (SPEC 4), kept in last_received_at.
            try db.execute(
                sql: "CREATE INDEX calls_completed_received ON calls (last_received_at) WHERE live = 0")
        }
        migrator.registerMigration("v3-maintenance-rounds") { db in
            try db.execute(sql: "CREATE TABLE maintenance_rounds (job TEXT PRIMARY KEY, last_run_at INTEGER NOT NULL)")
        }
        migrator.registerMigration("v4-live-calls-in-memory") { db in
            // Live calls are found in the server's memory now (LiveCallIndex); these indexes only cost
            // every write. The external id's unique index stays: it is what enforces SPEC 2.4.
            try db.execute(
                sql: """
                    DROP INDEX IF EXISTS calls_live_network;
                    DROP INDEX IF EXISTS calls_live_advertiser;
                    DROP INDEX IF EXISTS calls_live_phones;
                    """)
        }
        return migrator
    }
}
