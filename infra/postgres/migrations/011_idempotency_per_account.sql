-- Idempotent POSTs, kept after authentication (infra/http/idempotency.py).
--
-- The old table keyed rows by a SHA-256 of the caller's credentials (an API token, a
-- session id, or the sign-in body with its password) and kept every answer, one-time
-- passwords and issued tokens included, for ever. Its rows are dropped with it: they hold
-- secrets, and no retry can be matched to an account through them anyway.
DROP TABLE wwc_idempotency;

CREATE TABLE wwc_idempotency (
    account_id    text NOT NULL,          -- the signed-in account that sent the key
    key           text NOT NULL,          -- its Idempotency-Key
    route         text NOT NULL,          -- method and path template
    request       bytea NOT NULL,         -- SHA-256 of the path and the body
    status        integer,                -- NULL while the first request runs
    content_type  text,
    body          bytea,                  -- NULL with a status: not kept (a secret)
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, key)
);
-- Rows expire after 24 hours; each claim sweeps a few of the oldest.
CREATE INDEX wwc_idempotency_created ON wwc_idempotency (created_at);
