-- Schema of the PostgreSQL event store; {schema} is replaced by the configured schema.
-- Applied before the store's first statement (not in its constructor) under an advisory
-- lock; every statement is idempotent.
CREATE SCHEMA IF NOT EXISTS {schema};
CREATE TABLE IF NOT EXISTS {schema}.events (
    tenant text NOT NULL,
    context text NOT NULL,
    position bigint NOT NULL,
    event_id uuid NOT NULL,
    originator_id uuid NOT NULL,
    originator_version bigint NOT NULL,
    topic text NOT NULL,
    state bytea NOT NULL,
    actor text NOT NULL,
    correlation_id text NOT NULL,
    causation_id text,
    traceparent text,
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (tenant, context, position)
);
CREATE UNIQUE INDEX IF NOT EXISTS events_aggregate
    ON {schema}.events (tenant, context, originator_id, originator_version);
CREATE TABLE IF NOT EXISTS {schema}.log_heads (
    tenant text NOT NULL,
    context text NOT NULL,
    position bigint NOT NULL,
    PRIMARY KEY (tenant, context)
);
ALTER TABLE {schema}.events ADD COLUMN IF NOT EXISTS hash bytea;
ALTER TABLE {schema}.log_heads ADD COLUMN IF NOT EXISTS hash bytea;
CREATE TABLE IF NOT EXISTS {schema}.checkpoints (
    tenant text NOT NULL,
    context text NOT NULL,
    position bigint NOT NULL,
    hash bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, context, position)
);
CREATE OR REPLACE FUNCTION {schema}.chain_genesis(p_tenant text, p_context text)
RETURNS bytea LANGUAGE sql IMMUTABLE AS $g$
    SELECT sha256(convert_to('kim-chain:' || p_tenant || ':' || p_context, 'UTF8'))
$g$;
-- Signed checkpoints (ADR 0003): the signed statement beside position and hash; the head
-- row's recorded_at is the last event's, so the append statement can hash it (chain v2).
ALTER TABLE {schema}.checkpoints ADD COLUMN IF NOT EXISTS statement text;
ALTER TABLE {schema}.log_heads ADD COLUMN IF NOT EXISTS recorded_at timestamptz;
-- recorded_at as the chain hashes it: ISO 8601 in UTC with microseconds, as Python's
-- isoformat gives it ('2026-12-01T16:48:11.123456+00:00').
CREATE OR REPLACE FUNCTION {schema}.chain_time(p_at timestamptz)
RETURNS text LANGUAGE sql STABLE AS $t$
    SELECT to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00'
$t$;
-- The v2 link: sha256(previous || position (8 bytes) || digest || 0x1e || recorded_at).
CREATE OR REPLACE FUNCTION {schema}.chain_link_v2(
    p_prev bytea, p_pos bigint, p_digest bytea, p_at timestamptz
) RETURNS bytea LANGUAGE sql STABLE AS $l$
    SELECT sha256(p_prev || int8send(p_pos) || p_digest || '\x1e'::bytea
        || convert_to({schema}.chain_time(p_at), 'UTF8'))
$l$;
CREATE TABLE IF NOT EXISTS {schema}.idempotency (
    tenant text NOT NULL,
    key text NOT NULL,
    request_hash text NOT NULL,
    status int NOT NULL,
    outcome jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, key)
);
-- The aggregates a command appended to (subjects), so erasing a person forgets the records
-- of the commands about them. Rows from before the column hold unsalted SHA-256 digests of
-- the bodies under keys not scoped per principal: they are deleted once, when it is added.
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM information_schema.columns WHERE table_schema = '{schema}'
                   AND table_name = 'idempotency' AND column_name = 'subjects') THEN
        DELETE FROM {schema}.idempotency;
        ALTER TABLE {schema}.idempotency ADD COLUMN subjects uuid[] NOT NULL DEFAULT '{{}}';
    END IF;
END $$;
CREATE INDEX IF NOT EXISTS idempotency_subjects ON {schema}.idempotency USING gin (subjects);
CREATE TABLE IF NOT EXISTS {schema}.relay_positions (
    relay text NOT NULL,
    tenant text NOT NULL,
    context text NOT NULL,
    position bigint NOT NULL,
    PRIMARY KEY (relay, tenant, context)
);
DROP FUNCTION IF EXISTS {schema}.append_batch(
    text[], text[], int[], text[], text[], text[], text[], text[], text[], int[],
    int[], uuid[], uuid[], bigint[], text[], bytea[]);
CREATE OR REPLACE FUNCTION {schema}.append_batch(
    p_tenant text[], p_context text[], p_count int[],
    p_actor text[], p_corr text[], p_cause text[], p_tp text[],
    p_key text[], p_hash text[], p_status int[],
    p_req int[], p_eids uuid[], p_oids uuid[], p_vers bigint[], p_topics text[], p_states bytea[],
    p_digests bytea[]
) RETURNS TABLE (req int, pos bigint) LANGUAGE plpgsql AS $fn$
-- Appends a group of commands in one transaction. Per command it switches to that
-- command's tenant, so row-level security checks every row it writes. The head row is
-- locked first; each event's hash links to the previous one (see chain.py).
DECLARE
    i int;
    j int;
    first bigint;
    prev bytea;
    at timestamptz;
BEGIN
    PERFORM set_config('role', 'kim_tenant', true);
    FOR i IN 1 .. cardinality(p_tenant) LOOP
        PERFORM set_config('kim.tenant', p_tenant[i], true);
        INSERT INTO {schema}.log_heads AS h (tenant, context, position, hash)
            VALUES (p_tenant[i], p_context[i], 0, NULL)
            ON CONFLICT (tenant, context) DO NOTHING;
        SELECT h.position, h.hash INTO first, prev FROM {schema}.log_heads h
            WHERE h.tenant = p_tenant[i] AND h.context = p_context[i] FOR UPDATE;
        prev := coalesce(prev, {schema}.chain_genesis(p_tenant[i], p_context[i]));
        j := 0;
        FOR pos, req IN
            SELECT first + row_number() OVER (ORDER BY e.ord), e.ord
            FROM unnest(p_req) WITH ORDINALITY AS e(r, ord) WHERE e.r = i ORDER BY e.ord
        LOOP
            at := clock_timestamp();
            prev := {schema}.chain_link_v2(prev, pos, p_digests[req], at);
            INSERT INTO {schema}.events (tenant, context, position, event_id, originator_id,
                originator_version, topic, state, actor, correlation_id, causation_id,
                traceparent, hash, recorded_at)
            VALUES (p_tenant[i], p_context[i], pos, p_eids[req], p_oids[req], p_vers[req],
                p_topics[req], p_states[req], p_actor[i], p_corr[i], p_cause[i], p_tp[i], prev,
                at);
            j := j + 1;
            req := i;
            RETURN NEXT;
        END LOOP;
        UPDATE {schema}.log_heads h SET position = first + j, hash = prev,
            recorded_at = coalesce(at, h.recorded_at)
            WHERE h.tenant = p_tenant[i] AND h.context = p_context[i];
        IF p_key[i] IS NOT NULL THEN
            INSERT INTO {schema}.idempotency (tenant, key, request_hash, status, outcome,
                subjects)
            SELECT p_tenant[i], p_key[i], p_hash[i], p_status[i], jsonb_build_object(
                'tenant', p_tenant[i], 'context', p_context[i], 'position', first + j,
                'events', jsonb_agg(jsonb_build_object(
                    'aggregate_id', ev.originator_id, 'version', ev.originator_version,
                    'type', replace(split_part(ev.topic, ':', 2), '.', ''),
                    'position', ev.position) ORDER BY ev.position)),
                array_agg(DISTINCT ev.originator_id ORDER BY ev.originator_id)
            FROM {schema}.events ev
            WHERE ev.tenant = p_tenant[i] AND ev.context = p_context[i]
                AND ev.position > first AND ev.position <= first + j;
        END IF;
    END LOOP;
END
$fn$;
DO $$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'kim_tenant') THEN
        CREATE ROLE kim_tenant NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
-- Granted by a database administrator already (deploy/README.md, "Database roles"): a
-- grant again would need the ADMIN option.
DO $$ BEGIN
    IF NOT pg_has_role(current_user, 'kim_tenant', CASE WHEN
            current_setting('server_version_num')::int >= 160000 THEN 'SET' ELSE 'MEMBER' END)
    THEN
        EXECUTE format('GRANT kim_tenant TO %I', current_user);
    END IF;
END $$;
GRANT USAGE ON SCHEMA {schema} TO kim_tenant;
GRANT SELECT, INSERT ON {schema}.events TO kim_tenant;
GRANT SELECT, INSERT, UPDATE ON {schema}.log_heads TO kim_tenant;
GRANT SELECT, INSERT, DELETE ON {schema}.idempotency TO kim_tenant;
ALTER TABLE {schema}.events ENABLE ROW LEVEL SECURITY;
ALTER TABLE {schema}.log_heads ENABLE ROW LEVEL SECURITY;
ALTER TABLE {schema}.idempotency ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant_isolation ON {schema}.events;
CREATE POLICY tenant_isolation ON {schema}.events
    USING (tenant = current_setting('kim.tenant', true))
    WITH CHECK (tenant = current_setting('kim.tenant', true));
DROP POLICY IF EXISTS tenant_isolation ON {schema}.log_heads;
CREATE POLICY tenant_isolation ON {schema}.log_heads
    USING (tenant = current_setting('kim.tenant', true))
    WITH CHECK (tenant = current_setting('kim.tenant', true));
DROP POLICY IF EXISTS tenant_isolation ON {schema}.idempotency;
CREATE POLICY tenant_isolation ON {schema}.idempotency
    USING (tenant = current_setting('kim.tenant', true))
    WITH CHECK (tenant = current_setting('kim.tenant', true));
-- Keys for personal data, one per data subject (crypto-shredding: delete the key, and the
-- personal data in events, snapshots, read models and bus messages can no longer be read).
-- Each key is wrapped under the key-encryption key of an epoch, kept outside the database
-- (KIM_KEY_FILE); epoch 0: a raw key from before epochs, wrapped by the next rotation.
CREATE TABLE IF NOT EXISTS {schema}.subject_keys (
    tenant text NOT NULL,
    key_id uuid NOT NULL,
    key bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, key_id)
);
ALTER TABLE {schema}.subject_keys ADD COLUMN IF NOT EXISTS epoch int NOT NULL DEFAULT 0;
GRANT SELECT, INSERT, UPDATE, DELETE ON {schema}.subject_keys TO kim_tenant;
ALTER TABLE {schema}.subject_keys ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant_isolation ON {schema}.subject_keys;
CREATE POLICY tenant_isolation ON {schema}.subject_keys
    USING (tenant = current_setting('kim.tenant', true))
    WITH CHECK (tenant = current_setting('kim.tenant', true));
-- Key epochs (ADR 0006): the lowest epoch a new key may be wrapped under (raised when a
-- rotation begins) and the key file the store belongs to; platform-level, tenants read it.
CREATE TABLE IF NOT EXISTS {schema}.key_state (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    floor int NOT NULL DEFAULT 0,
    kek_id text
);
INSERT INTO {schema}.key_state (id) VALUES (true) ON CONFLICT DO NOTHING;
GRANT SELECT ON {schema}.key_state TO kim_tenant;
-- Erasures whose key may still be unwrapped from old pages, WAL and backups: the rotation
-- that destroys their epoch (within KIM_ERASURE_ROTATION_HOURS) clears them.
CREATE TABLE IF NOT EXISTS {schema}.key_erasures (
    tenant text NOT NULL,
    epoch int NOT NULL,
    erased_at timestamptz NOT NULL DEFAULT now()
);
GRANT INSERT ON {schema}.key_erasures TO kim_tenant;
ALTER TABLE {schema}.key_erasures ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant_isolation ON {schema}.key_erasures;
CREATE POLICY tenant_isolation ON {schema}.key_erasures
    USING (tenant = current_setting('kim.tenant', true))
    WITH CHECK (tenant = current_setting('kim.tenant', true));
-- Index entries written in the same transaction as the events (contexts/shared/indexes.py):
-- facts across aggregates (the open cases of a position) without replaying the log.
CREATE TABLE IF NOT EXISTS {schema}.index_entries (
    tenant text NOT NULL,
    context text NOT NULL,
    index_name text NOT NULL,
    key text NOT NULL,
    member text NOT NULL,
    PRIMARY KEY (tenant, context, index_name, key, member)
);
GRANT SELECT, INSERT, DELETE ON {schema}.index_entries TO kim_tenant;
ALTER TABLE {schema}.index_entries ENABLE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant_isolation ON {schema}.index_entries;
CREATE POLICY tenant_isolation ON {schema}.index_entries
    USING (tenant = current_setting('kim.tenant', true))
    WITH CHECK (tenant = current_setting('kim.tenant', true));
