-- Where each city is (for the public map), from its join event. Rebuilt from the log on
-- the next catch-up: older joins carry no location and keep NULL.
ALTER TABLE wwc_registry ADD COLUMN latitude double precision;
ALTER TABLE wwc_registry ADD COLUMN longitude double precision;
DELETE FROM wwc_registry;
DELETE FROM wwc_projection_checkpoints WHERE name = 'registry';
