-- wwc_append, same contract as in 001, but the batch goes in with one INSERT: the hash
-- chain is computed first (it is sequential by nature), then every row is inserted in a
-- single statement, which costs far less than one INSERT per event.
CREATE OR REPLACE FUNCTION wwc_append(p_stream_id text, p_expected integer, p_events jsonb)
RETURNS TABLE (out_position bigint, out_stream_version integer, out_duplicate boolean)
LANGUAGE plpgsql AS $$
DECLARE
    current_version integer;
    chain bytea;
    prevs bytea[] := '{}';
    hashes bytea[] := '{}';
    ev jsonb;
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

    FOR ev IN SELECT value FROM jsonb_array_elements(p_events) LOOP
        offs := offs + 1;
        prevs := prevs || chain;
        chain := wwc_event_digest(chain, p_stream_id, p_expected + offs,
                                  (ev ->> 'event_id')::uuid, ev ->> 'event_type',
                                  (ev ->> 'schema_version')::integer, ev -> 'data',
                                  COALESCE(ev -> 'metadata', '{}'::jsonb), stamp);
        hashes := hashes || chain;
    END LOOP;

    RETURN QUERY
    WITH inserted AS (
        INSERT INTO wwc_events (stream_id, stream_version, event_id, event_type,
                                schema_version, data, metadata, recorded_at, prev_hash, hash)
        SELECT p_stream_id, p_expected + t.ord::integer, (t.ev ->> 'event_id')::uuid,
               t.ev ->> 'event_type', (t.ev ->> 'schema_version')::integer, t.ev -> 'data',
               COALESCE(t.ev -> 'metadata', '{}'::jsonb), stamp, prevs[t.ord], hashes[t.ord]
          FROM jsonb_array_elements(p_events) WITH ORDINALITY AS t(ev, ord)
        RETURNING wwc_events.position, wwc_events.stream_version
    )
    SELECT i.position, i.stream_version, false FROM inserted i ORDER BY i.stream_version;
END
$$;
