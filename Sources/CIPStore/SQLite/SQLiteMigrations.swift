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
        migrator.registerMigration("v5-state-version-change-log") { db in
            // A call's state is explicit now (not live + an empty destination), it carries SPEC 2.7's
            // version, and every change to a call is logged under a sequence number (SPEC 8).
            try db.execute(
                sql: """
                    ALTER TABLE calls ADD COLUMN state TEXT NOT NULL DEFAULT 'live';
                    UPDATE calls SET state = CASE WHEN live = 1 THEN 'live'
                        WHEN destination_phone_number <> '' THEN 'completed' ELSE 'never_bridged' END;
                    ALTER TABLE calls ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
                    UPDATE calls SET version = 0 WHERE state = 'never_bridged';
                    DROP INDEX calls_live_external_id;
                    DROP INDEX calls_live_received;
                    DROP INDEX calls_ended;
                    DROP INDEX calls_completed_received;
                    ALTER TABLE calls DROP COLUMN live;
                    CREATE UNIQUE INDEX calls_live_external_id ON calls (network_id, external_unique_id)
                        WHERE state = 'live' AND external_unique_id IS NOT NULL;
                    CREATE INDEX calls_live_received ON calls (last_received_at) WHERE state = 'live';
                    CREATE INDEX calls_completed_ended ON calls (ended_at) WHERE state = 'completed';
                    CREATE INDEX calls_ended_received ON calls (last_received_at) WHERE state <> 'live';
                    CREATE TABLE call_changes (
                        sequence INTEGER PRIMARY KEY,
                        transaction_id TEXT NOT NULL,
                        network_id INTEGER NOT NULL,
                        advertiser_id INTEGER,
                        kind TEXT NOT NULL,
                        changed TEXT NOT NULL,
                        call TEXT NOT NULL,
                        committed_at INTEGER NOT NULL
                    );
                    CREATE INDEX call_changes_network ON call_changes (network_id, sequence);
                    CREATE INDEX call_changes_advertiser ON call_changes (advertiser_id, sequence);
                    CREATE TABLE change_log (
                        id INTEGER PRIMARY KEY CHECK (id = 1),
                        last_sequence INTEGER NOT NULL,
                        purged_through INTEGER NOT NULL
                    );
                    INSERT INTO change_log (id, last_sequence, purged_through) VALUES (1, 0, 0);
                    """)
        }
        migrator.registerMigration("v6-change-previous-advertiser") { db in
            // A change that moves a call between advertisers names the one it left, 0 for none (SPEC 8).
            try db.execute(
                sql: """
                    ALTER TABLE call_changes ADD COLUMN previous_advertiser_id INTEGER;
                    CREATE INDEX call_changes_previous_advertiser ON call_changes (previous_advertiser_id, sequence)
                        WHERE previous_advertiser_id IS NOT NULL;
                    """)
        }
        migrator.registerMigration("v7-pre-call-data") { db in
            // SPEC 2.9: one pending entry per organization and numbers ('' for any destination).
            try db.execute(
                sql: """
                    CREATE TABLE pre_call_data (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        organization_type TEXT NOT NULL,
                        organization_id INTEGER NOT NULL,
                        network_id INTEGER NOT NULL,
                        calling_phone_number TEXT NOT NULL,
                        destination_phone_number TEXT NOT NULL,
                        external_unique_id TEXT,
                        custom_data TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        expires_at INTEGER NOT NULL,
                        UNIQUE (organization_type, organization_id, calling_phone_number, destination_phone_number)
                    );
                    CREATE INDEX pre_call_data_caller ON pre_call_data (network_id, calling_phone_number);
                    CREATE INDEX pre_call_data_expiry ON pre_call_data (expires_at);
                    """)
        }
        migrator.registerMigration("v8-webhooks") { db in
            // SPEC 9: each webhook's place in the change log, its failures, and its delivery lease.
            try db.execute(
                sql: """
                    CREATE TABLE webhooks (
                        id INTEGER PRIMARY KEY AUTOINCREMENT,
                        organization_type TEXT NOT NULL, organization_id INTEGER NOT NULL, network_id INTEGER NOT NULL,
                        url TEXT NOT NULL, events TEXT NOT NULL, sealed_secret TEXT NOT NULL, created_at INTEGER NOT NULL,
                        state TEXT NOT NULL DEFAULT 'active', delivered_through INTEGER NOT NULL,
                        last_delivery_at INTEGER, last_error TEXT, failing_since INTEGER, attempts INTEGER NOT NULL DEFAULT 0,
                        skipped INTEGER NOT NULL DEFAULT 0, lease_owner TEXT, lease_until INTEGER
                    );
                    """)
        }
        return migrator
    }
}
