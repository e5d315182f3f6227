/// The versioned schema of the PostgreSQL store: one statement per entry, because the extended
/// query protocol runs one at a time. Append new versions; never edit an applied one.
enum PostgresMigrations {
    static let versions: [(name: String, statements: [String])] = [
        (
            "v1-catalog-tokens-calls",
            [
                "CREATE TABLE networks (id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE, country TEXT NOT NULL)",
                """
                CREATE TABLE advertisers (id BIGSERIAL PRIMARY KEY, network_id BIGINT NOT NULL REFERENCES networks (id),
                    name TEXT NOT NULL, id_from_network TEXT, UNIQUE (network_id, name))
                """,
                """
                CREATE TABLE custom_data_fields (network_id BIGINT NOT NULL REFERENCES networks (id), name TEXT NOT NULL,
                    data_type TEXT NOT NULL, allowed_values TEXT NOT NULL, PRIMARY KEY (network_id, name))
                """,
                """
                CREATE TABLE tokens (id BIGSERIAL PRIMARY KEY, hash TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
                    organization_type TEXT, organization_id BIGINT, scope TEXT NOT NULL, description TEXT,
                    created_at BIGINT NOT NULL, revoked_at BIGINT)
                """,
                // COLLATE "C": transaction ids sort by bytes, as SPEC's tie-break and SQLite do.
                """
                CREATE TABLE calls (transaction_id TEXT COLLATE "C" PRIMARY KEY, network_id BIGINT NOT NULL,
                    advertiser_id BIGINT, live BOOLEAN NOT NULL, call_status TEXT NOT NULL, external_unique_id TEXT,
                    calling_phone_number TEXT NOT NULL, destination_phone_number TEXT NOT NULL,
                    call_start BIGINT NOT NULL, transfer_start BIGINT NOT NULL, attributes TEXT NOT NULL,
                    custom_data TEXT NOT NULL, last_event_at BIGINT NOT NULL, last_received_at BIGINT NOT NULL,
                    ended_at BIGINT, end_reason TEXT)
                """,
                """
                CREATE UNIQUE INDEX calls_live_external_id ON calls (network_id, external_unique_id)
                    WHERE live AND external_unique_id IS NOT NULL
                """,
                "CREATE INDEX calls_live_network ON calls (network_id, transfer_start DESC) WHERE live",
                "CREATE INDEX calls_live_advertiser ON calls (advertiser_id, transfer_start DESC) WHERE live",
                "CREATE INDEX calls_live_phones ON calls (calling_phone_number, destination_phone_number) WHERE live",
                "CREATE INDEX calls_live_received ON calls (last_received_at) WHERE live",
                "CREATE INDEX calls_ended ON calls (ended_at) WHERE NOT live",
                "CREATE INDEX calls_completed_received ON calls (last_received_at) WHERE NOT live",
                """
                CREATE TABLE call_events (transaction_id TEXT NOT NULL, event TEXT NOT NULL, occurred_at BIGINT NOT NULL,
                    PRIMARY KEY (transaction_id, event, occurred_at))
                """,
                "CREATE TABLE maintenance_rounds (job TEXT PRIMARY KEY, last_run_at BIGINT NOT NULL)",
            ]
        ),
        (
            "v2-state-version-change-log",
            [
                "ALTER TABLE calls ADD COLUMN state TEXT NOT NULL DEFAULT 'live'",
                """
                UPDATE calls SET state = CASE WHEN live THEN 'live'
                    WHEN destination_phone_number <> '' THEN 'completed' ELSE 'never_bridged' END
                """,
                "ALTER TABLE calls ADD COLUMN version BIGINT NOT NULL DEFAULT 1",
                "UPDATE calls SET version = 0 WHERE state = 'never_bridged'",
                // Dropping the column drops every index on it.
                "ALTER TABLE calls DROP COLUMN live",
                """
                CREATE UNIQUE INDEX calls_live_external_id ON calls (network_id, external_unique_id)
                    WHERE state = 'live' AND external_unique_id IS NOT NULL
                """,
                "CREATE INDEX calls_live_network ON calls (network_id, transfer_start DESC) WHERE state = 'live'",
                "CREATE INDEX calls_live_advertiser ON calls (advertiser_id, transfer_start DESC) WHERE state = 'live'",
                """
                CREATE INDEX calls_live_phones ON calls (calling_phone_number, destination_phone_number)
                    WHERE state = 'live'
                """,
                "CREATE INDEX calls_live_received ON calls (last_received_at) WHERE state = 'live'",
                "CREATE INDEX calls_completed_ended ON calls (ended_at) WHERE state = 'completed'",
                "CREATE INDEX calls_ended_received ON calls (last_received_at) WHERE state <> 'live'",
                // change_id orders a call's changes as they were written; sequence is stamped after
                // commit by ChangeSequencer, in commit order (DECISIONS.md, "The change log").
                """
                CREATE TABLE call_changes (change_id BIGSERIAL PRIMARY KEY, sequence BIGINT UNIQUE,
                    transaction_id TEXT COLLATE "C" NOT NULL, network_id BIGINT NOT NULL, advertiser_id BIGINT,
                    kind TEXT NOT NULL, changed TEXT NOT NULL, call TEXT NOT NULL, committed_at BIGINT NOT NULL)
                """,
                "CREATE INDEX call_changes_unstamped ON call_changes (change_id) WHERE sequence IS NULL",
                "CREATE INDEX call_changes_network ON call_changes (network_id, sequence)",
                "CREATE INDEX call_changes_advertiser ON call_changes (advertiser_id, sequence)",
                "CREATE INDEX call_changes_call ON call_changes (transaction_id, sequence)",
                """
                CREATE TABLE change_log (id INT PRIMARY KEY CHECK (id = 1), last_sequence BIGINT NOT NULL,
                    purged_through BIGINT NOT NULL)
                """,
                "INSERT INTO change_log (id, last_sequence, purged_through) VALUES (1, 0, 0)",
            ]
        ),
        (
            "v3-change-previous-advertiser",
            [
                // A change that moves a call between advertisers names the one it left, 0 for none (SPEC 8).
                "ALTER TABLE call_changes ADD COLUMN previous_advertiser_id BIGINT",
                """
                CREATE INDEX call_changes_previous_advertiser ON call_changes (previous_advertiser_id, sequence)
                    WHERE previous_advertiser_id IS NOT NULL
                """,
            ]
        ),
        (
            "v4-pre-call-data",
            [
                // SPEC 2.9: one pending entry per organization and numbers ('' for any destination).
                """
                CREATE TABLE pre_call_data (id BIGSERIAL PRIMARY KEY, organization_type TEXT NOT NULL,
                    organization_id BIGINT NOT NULL, network_id BIGINT NOT NULL,
                    calling_phone_number TEXT NOT NULL, destination_phone_number TEXT NOT NULL,
                    external_unique_id TEXT, custom_data TEXT NOT NULL, created_at BIGINT NOT NULL,
                    expires_at BIGINT NOT NULL,
                    UNIQUE (organization_type, organization_id, calling_phone_number, destination_phone_number))
                """,
                "CREATE INDEX pre_call_data_caller ON pre_call_data (network_id, calling_phone_number)",
                "CREATE INDEX pre_call_data_expiry ON pre_call_data (expires_at)",
            ]
        ),
        (
            "v5-webhooks",
            [
                // SPEC 9: each webhook's place in the change log, its failures, and its delivery lease.
                """
                CREATE TABLE webhooks (id BIGSERIAL PRIMARY KEY,
                    organization_type TEXT NOT NULL, organization_id BIGINT NOT NULL, network_id BIGINT NOT NULL,
                    url TEXT NOT NULL, events TEXT NOT NULL, sealed_secret TEXT NOT NULL, created_at BIGINT NOT NULL,
                    state TEXT NOT NULL DEFAULT 'active', delivered_through BIGINT NOT NULL,
                    last_delivery_at BIGINT, last_error TEXT, failing_since BIGINT, attempts BIGINT NOT NULL DEFAULT 0,
                    skipped BIGINT NOT NULL DEFAULT 0, lease_owner TEXT, lease_until BIGINT)
                """
            ]
        ),
        (
            "v6-numbering-round-function",
            [
                // A numbering round (`ChangeSequencer`) in one statement, so one round trip: with
                // memory reads every write waits for one. The same lock and statement as the round
                // it replaces; VOLATILE, so its statements see what committed before each began.
                """
                CREATE FUNCTION cip_number_changes(round_limit integer) RETURNS bigint
                LANGUAGE plpgsql VOLATILE AS $$
                DECLARE
                    stamped bigint;
                    highest bigint;
                BEGIN
                    PERFORM pg_advisory_xact_lock(7391003);
                    WITH pending AS (
                        SELECT change_id, row_number() OVER (ORDER BY change_id) AS position
                        FROM (SELECT change_id FROM call_changes WHERE sequence IS NULL ORDER BY change_id
                            LIMIT round_limit) AS unnumbered),
                    counter AS (
                        UPDATE change_log SET last_sequence = last_sequence + (SELECT count(*) FROM pending)
                        RETURNING last_sequence - (SELECT count(*) FROM pending) AS base),
                    numbered AS (
                        UPDATE call_changes SET sequence = counter.base + pending.position FROM pending, counter
                        WHERE call_changes.change_id = pending.change_id
                        RETURNING call_changes.sequence)
                    SELECT count(*), max(sequence) INTO stamped, highest FROM numbered;
                    IF stamped > 0 THEN
                        -- Followers of the log learn of new numbers when this round commits.
                        PERFORM pg_notify('cip_changes', highest::text);
                    END IF;
                    RETURN stamped;
                END
                $$
                """
            ]
        ),
        (
            "v7-read-leases",
            [
                // Nodes that answer reads from memory without asking the log's head (`ReadLease`):
                // a write is acknowledged once every node holding a lease has applied it.
                "CREATE TABLE read_leases (node_id TEXT PRIMARY KEY, lease_until TIMESTAMPTZ NOT NULL)"
            ]
        ),
        (
            "v8-locked-calls-function",
            [
                // A write's first step in one round trip (`PostgresCallRows.lockedCalls`): the calls'
                // locks, in a fixed order, then their rows. VOLATILE: the read takes its snapshot
                // after the locks are held, so it sees every write that held them before.
                """
                CREATE FUNCTION cip_locked_calls(ids text[]) RETURNS SETOF calls
                LANGUAGE plpgsql VOLATILE AS $$
                BEGIN
                    PERFORM pg_advisory_xact_lock(hashtextextended(k, 7391002)) FROM unnest(ids) AS k ORDER BY k;
                    RETURN QUERY SELECT * FROM calls WHERE transaction_id = ANY(ids);
                END
                $$
                """
            ]
        ),
        (
            "v9-change-indexes-of-numbered-rows",
            [
                // A change row is written unnumbered, then numbered by the next round: a second row
                // version, entered in every index again. Every read of the log asks for numbered rows
                // (a strict comparison on `sequence` implies it is not null), so the indexes by
                // sequence hold only those, and an unnumbered row enters two indexes instead of six.
                "ALTER TABLE call_changes DROP CONSTRAINT call_changes_sequence_key",
                "CREATE UNIQUE INDEX call_changes_sequence ON call_changes (sequence) WHERE sequence IS NOT NULL",
                "DROP INDEX call_changes_network",
                "CREATE INDEX call_changes_network ON call_changes (network_id, sequence) WHERE sequence IS NOT NULL",
                "DROP INDEX call_changes_advertiser",
                """
                CREATE INDEX call_changes_advertiser ON call_changes (advertiser_id, sequence)
                    WHERE sequence IS NOT NULL
                """,
                "DROP INDEX call_changes_call",
                "CREATE INDEX call_changes_call ON call_changes (transaction_id, sequence) WHERE sequence IS NOT NULL",
                "DROP INDEX call_changes_previous_advertiser",
                """
                CREATE INDEX call_changes_previous_advertiser ON call_changes (previous_advertiser_id, sequence)
                    WHERE previous_advertiser_id IS NOT NULL AND sequence IS NOT NULL
                """,
            ]
        ),
    ]
}
