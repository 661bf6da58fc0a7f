-- The event store: one append-only table of every domain event.
--
-- Global order for readers is (tx_id, position): a catch-up reader only reads rows whose
-- transaction id is below the oldest transaction still running (the snapshot's xmin), so
-- a transaction that took a lower position but commits late can never be skipped, and
-- writers never serialise on a table lock.

CREATE TABLE wwc_events (
    position        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tx_id           bigint      NOT NULL DEFAULT (pg_current_xact_id()::text::bigint),
    stream_id       text        NOT NULL,
    stream_version  integer     NOT NULL CHECK (stream_version >= 1),
    event_id        uuid        NOT NULL,
    event_type      text        NOT NULL,
    schema_version  integer     NOT NULL CHECK (schema_version >= 1),
    data            jsonb       NOT NULL,
    metadata        jsonb       NOT NULL DEFAULT '{}'::jsonb,
    recorded_at     timestamptz NOT NULL,
    prev_hash       bytea       NOT NULL,
    hash            bytea       NOT NULL,
    CONSTRAINT wwc_events_event_id_key UNIQUE (event_id),
    CONSTRAINT wwc_events_stream_version_key UNIQUE (stream_id, stream_version)
);

CREATE INDEX wwc_events_log_order ON wwc_events (tx_id, position);
CREATE INDEX wwc_events_by_type ON wwc_events (event_type, tx_id, position);

-- Tamper evidence: each event's hash covers the previous event's hash in its stream and
-- the canonical text (jsonb's normalised form) of every immutable field.
CREATE FUNCTION wwc_event_digest(
    prev bytea, p_stream_id text, p_stream_version integer, p_event_id uuid,
    p_event_type text, p_schema_version integer, p_data jsonb, p_metadata jsonb,
    p_recorded_at timestamptz
) RETURNS bytea LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT sha256(prev || convert_to(jsonb_build_object(
        'stream_id', p_stream_id,
        'stream_version', p_stream_version,
        'event_id', p_event_id::text,
        'event_type', p_event_type,
        'schema_version', p_schema_version,
        'data', p_data,
        'metadata', p_metadata,
        'recorded_at', to_char(p_recorded_at AT TIME ZONE 'UTC',
                               'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
    )::text, 'UTF8'))
$$;

-- Append a batch to one stream atomically, in one round trip.
--   * stale expected version            -> SQLSTATE WW001, nothing written
--   * the same batch already stored     -> its rows returned with duplicate = true
--   * a stored event id, other content  -> SQLSTATE WW002, nothing written
-- p_events: [{event_id, event_type, schema_version, data, metadata}, ...]
CREATE FUNCTION wwc_append(p_stream_id text, p_expected integer, p_events jsonb)
RETURNS TABLE (out_position bigint, out_stream_version integer, out_duplicate boolean)
LANGUAGE plpgsql AS $$
DECLARE
    current_version integer;
    chain bytea;
    ev jsonb;
    version integer;
    stamp timestamptz := clock_timestamp();
    stored wwc_events%ROWTYPE;
    first_id uuid := (p_events -> 0 ->> 'event_id')::uuid;
    offs integer := 0;
BEGIN
    IF jsonb_typeof(p_events) <> 'array' OR jsonb_array_length(p_events) = 0 THEN
        RAISE EXCEPTION 'append needs at least one event' USING ERRCODE = '22023';
    END IF;
    SELECT e.stream_version, e.hash INTO current_version, chain
      FROM wwc_events e WHERE e.stream_id = p_stream_id
     ORDER BY e.stream_version DESC LIMIT 1;
    IF NOT FOUND THEN
        current_version := 0;
        chain := sha256(convert_to('wwc:' || p_stream_id, 'UTF8'));
    END IF;

    IF current_version <> p_expected THEN
        SELECT * INTO stored FROM wwc_events WHERE event_id = first_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'stream % is at version %, expected %',
                p_stream_id, current_version, p_expected
                USING ERRCODE = 'WW001', DETAIL = current_version::text;
        END IF;
        -- A retried batch: every event must match what is stored, position for position.
        FOR ev IN SELECT value FROM jsonb_array_elements(p_events) LOOP
            SELECT * INTO stored FROM wwc_events WHERE event_id = (ev ->> 'event_id')::uuid;
            IF NOT FOUND
               OR stored.stream_id <> p_stream_id
               OR stored.stream_version <> p_expected + offs + 1
               OR stored.event_type <> ev ->> 'event_type'
               OR stored.schema_version <> (ev ->> 'schema_version')::integer
               OR stored.data <> ev -> 'data' THEN
                RAISE EXCEPTION 'event % is already stored with different content',
                    ev ->> 'event_id' USING ERRCODE = 'WW002';
            END IF;
            out_position := stored.position;
            out_stream_version := stored.stream_version;
            out_duplicate := true;
            offs := offs + 1;
            RETURN NEXT;
        END LOOP;
        RETURN;
    END IF;

    version := p_expected;
    FOR ev IN SELECT value FROM jsonb_array_elements(p_events) LOOP
        version := version + 1;
        INSERT INTO wwc_events (stream_id, stream_version, event_id, event_type,
                                schema_version, data, metadata, recorded_at, prev_hash, hash)
        VALUES (p_stream_id, version, (ev ->> 'event_id')::uuid, ev ->> 'event_type',
                (ev ->> 'schema_version')::integer, ev -> 'data',
                COALESCE(ev -> 'metadata', '{}'::jsonb), stamp, chain,
                wwc_event_digest(chain, p_stream_id, version, (ev ->> 'event_id')::uuid,
                                 ev ->> 'event_type', (ev ->> 'schema_version')::integer,
                                 ev -> 'data', COALESCE(ev -> 'metadata', '{}'::jsonb), stamp))
        RETURNING wwc_events.position, wwc_events.hash INTO out_position, chain;
        out_stream_version := version;
        out_duplicate := false;
        RETURN NEXT;
    END LOOP;
END
$$;

-- Append-only in the database itself.
CREATE FUNCTION wwc_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'wwc_events is append-only: % refused', TG_OP
        USING ERRCODE = 'WW003';
END
$$;

CREATE TRIGGER wwc_events_append_only
    BEFORE UPDATE OR DELETE ON wwc_events
    FOR EACH ROW EXECUTE FUNCTION wwc_refuse_change();

CREATE TRIGGER wwc_events_no_truncate
    BEFORE TRUNCATE ON wwc_events
    FOR EACH STATEMENT EXECUTE FUNCTION wwc_refuse_change();
