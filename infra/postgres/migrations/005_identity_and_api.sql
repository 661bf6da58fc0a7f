-- The front door: accounts (a read model of the account streams), the secrets kept apart
-- from the event log (password and token hashes), browser sessions, sign-in throttling,
-- idempotent POSTs, and certification periods (the registry as of any date).

-- Accounts, one row per account stream (projection "accounts").
CREATE TABLE wwc_accounts (
    account_id    text PRIMARY KEY,
    email         text NOT NULL UNIQUE,
    display_name  text NOT NULL,
    role          text NOT NULL,
    cities        text[] NOT NULL DEFAULT '{}',
    affiliations  text[] NOT NULL DEFAULT '{}',
    language      text NOT NULL DEFAULT 'en',
    disabled      boolean NOT NULL DEFAULT false,
    created_on    date NOT NULL
);

-- API tokens of the accounts (projection "accounts"): which exist, until when, revoked.
CREATE TABLE wwc_api_tokens (
    token_id    text PRIMARY KEY,
    account_id  text NOT NULL,
    name        text NOT NULL,
    expires_on  date NOT NULL,
    revoked     boolean NOT NULL DEFAULT false,
    issued_on   date NOT NULL
);

-- Secrets: never in an event (an event is forever; a hash must be replaceable). Argon2id
-- for passwords; SHA-256 for tokens and session ids, which are 256-bit random values.
CREATE TABLE wwc_password_hashes (
    account_id  text PRIMARY KEY,
    hash        text NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE wwc_token_hashes (
    token_id  text PRIMARY KEY,
    hash      bytea NOT NULL UNIQUE
);

-- Browser sessions, by the hash of their id (a copy of the table opens no session).
CREATE TABLE wwc_sessions (
    id_hash      bytea PRIMARY KEY,
    account_id   text NOT NULL,
    csrf_hash    bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL
);
CREATE INDEX wwc_sessions_account ON wwc_sessions (account_id);

-- Failed sign-ins per key (an account's e-mail, or a client address).
CREATE TABLE wwc_sign_in_failures (
    key           text PRIMARY KEY,
    failures      integer NOT NULL,
    last_failure  timestamptz NOT NULL,
    locked_until  timestamptz
);

-- The first answer to a POST with an Idempotency-Key, per caller.
CREATE TABLE wwc_idempotency (
    caller      text NOT NULL,
    key         text NOT NULL,
    request     bytea NOT NULL,          -- SHA-256 of method, path and body
    status      integer NOT NULL,
    body        bytea NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (caller, key)
);

-- Certification periods (projection "periods"): who held which tier from when until when.
-- The registry as of a date is a range query here.
CREATE TABLE wwc_certification_periods (
    city_key     text NOT NULL,            -- name and country: wwc_registry
    tier         text NOT NULL,
    standard_id  text NOT NULL,
    cohort_id    text NOT NULL,
    awarded_on   date NOT NULL,
    expires_on   date NOT NULL,
    ended_on     date,                   -- lapsed, withdrawn or replaced; NULL: in force
    outcome      text NOT NULL,
    PRIMARY KEY (city_key, awarded_on)
);
CREATE INDEX wwc_certification_periods_dates ON wwc_certification_periods (awarded_on, ended_on);

-- Reviewers' queues: the pipeline names each application's reviewer. Rebuilt from the log
-- on the next catch-up (the column is new, so every row is reset).
ALTER TABLE wwc_pipeline ADD COLUMN reviewer text;
CREATE INDEX wwc_pipeline_reviewer ON wwc_pipeline (reviewer) WHERE reviewer IS NOT NULL;
DELETE FROM wwc_pipeline;
DELETE FROM wwc_projection_checkpoints WHERE name = 'pipeline';
