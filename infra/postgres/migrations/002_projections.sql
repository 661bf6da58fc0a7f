-- Read models, each kept by a catch-up projection whose checkpoint is written in the same
-- transaction as its rows (exactly once, resumable after a crash).

CREATE TABLE wwc_projection_checkpoints (
    name        text PRIMARY KEY,
    tx_id       bigint NOT NULL DEFAULT 0,
    position    bigint NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- The certification registry: one row per city.
CREATE TABLE wwc_registry (
    city_key            text PRIMARY KEY,
    name                text NOT NULL,
    country             text NOT NULL,
    population          integer NOT NULL,
    joined_on           date NOT NULL,
    status              text NOT NULL,
    tier                text NOT NULL DEFAULT 'none',
    standard_id         text,
    cohort_id           text,
    awarded_on          date,
    expires_on          date,
    last_outcome        text,
    last_decision_tier  text,
    last_decision_on    date,
    last_percent        numeric(5, 2),
    honor_roll          boolean NOT NULL DEFAULT false,
    applications        integer NOT NULL DEFAULT 0,
    application_stage   text,
    open_clarifications integer NOT NULL DEFAULT 0,
    reminders_sent      integer NOT NULL DEFAULT 0,
    held_pending_renewal boolean NOT NULL DEFAULT false,
    lapsed_on           date,
    withdrawn           boolean NOT NULL DEFAULT false,
    updated_on          date NOT NULL
);
CREATE INDEX wwc_registry_expires ON wwc_registry (expires_on) WHERE expires_on IS NOT NULL;
CREATE INDEX wwc_registry_tier ON wwc_registry (tier);

-- Cohorts and the cities announced in them.
CREATE TABLE wwc_cohorts (
    cohort_id     text PRIMARY KEY,
    announce_on   date NOT NULL,
    announced_on  date,
    city_count    integer NOT NULL DEFAULT 0
);
CREATE TABLE wwc_cohort_cities (
    cohort_id  text NOT NULL,
    city_key   text NOT NULL,
    name       text NOT NULL,
    tier       text NOT NULL,
    PRIMARY KEY (cohort_id, city_key)
);

-- The application pipeline: who is at which stage since when.
CREATE TABLE wwc_pipeline (
    city_key      text PRIMARY KEY,
    application   integer NOT NULL,
    standard_id   text NOT NULL,
    reapplication boolean NOT NULL,
    stage         text NOT NULL,
    stage_since   date NOT NULL,
    open_clarifications integer NOT NULL DEFAULT 0,
    opened_on     date NOT NULL
);
CREATE INDEX wwc_pipeline_stage ON wwc_pipeline (stage, stage_since);
