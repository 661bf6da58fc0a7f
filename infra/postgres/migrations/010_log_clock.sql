-- The log's order, independent of the cluster it lives on.
--
-- Readers order the log by (tx_id, position) and read only below the oldest transaction
-- still running (001). tx_id was the cluster's own transaction id, so the order only held
-- on the cluster that wrote the events: restored into a new cluster (a fresh data
-- directory, another server), whose transaction counter starts far lower, the restored
-- events looked like transactions still in flight (readers saw none of them) and new
-- events sorted before them (read models skipped every one).
--
-- Now tx_id is the cluster's transaction id plus this database's offset. The offset is 0
-- on the cluster that wrote the events; `wwc_log_clock_heal()` moves it so the next
-- transaction's id lies past every stored one. It runs after every migration (each start
-- of the service, and `wwc restore`), and changes nothing on a database that did not move:
-- there, the next transaction's id is always past the stored ones.
CREATE TABLE wwc_log_clock (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    xid_offset  bigint  NOT NULL,
    moved_at    timestamptz
);
INSERT INTO wwc_log_clock (xid_offset) VALUES (0);

-- The current transaction's place in the log order (assigns it a transaction id).
CREATE FUNCTION wwc_log_xid() RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT pg_current_xact_id()::text::bigint + (SELECT xid_offset FROM wwc_log_clock)
$$;

-- Every transaction below this place is finished: the rows it wrote are final.
CREATE FUNCTION wwc_log_xmin() RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint
           + (SELECT xid_offset FROM wwc_log_clock)
$$;

ALTER TABLE wwc_events ALTER COLUMN tx_id SET DEFAULT wwc_log_xid();

-- Move the offset when a stored place (an event's, or a read model's checkpoint) is not
-- below every place this cluster can still give out: the database was restored or copied
-- into a cluster whose transaction counter is behind. The newest stored place and the
-- cluster's next transaction id are read in one statement, so under one snapshot: on the
-- cluster that wrote the log, every visible row's place lies below the snapshot's xmax
-- (plus the unchanged offset), and nothing moves while writers run. Call it under the
-- migrations' lock (one healer at a time). Returns how far the offset moved (0: not at all).
CREATE FUNCTION wwc_log_clock_heal() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    newest bigint;
    next_place bigint;
BEGIN
    SELECT greatest((SELECT max(tx_id) FROM wwc_events),
                    (SELECT max(tx_id) FROM wwc_projection_checkpoints)),
           pg_snapshot_xmax(pg_current_snapshot())::text::bigint
           + (SELECT xid_offset FROM wwc_log_clock)
      INTO newest, next_place;
    IF newest IS NULL OR newest < next_place THEN
        RETURN 0;
    END IF;
    UPDATE wwc_log_clock SET xid_offset = xid_offset + (newest + 1 - next_place),
                             moved_at = now();
    RETURN newest + 1 - next_place;
END
$$;
