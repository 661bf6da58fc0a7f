-- Lighter writes: every index on wwc_events is paid for by every append.
--
-- wwc_events_by_type goes. Reads by type filter the log-order index instead: a catch-up
-- read from a checkpoint walks only the rows written since, and a rebuild walks the log
-- once either way. The by-type index also made each page of a typed read sort every
-- matching row after the cursor, so a rebuild did more work per page the longer the log.
DROP INDEX IF EXISTS wwc_events_by_type;
