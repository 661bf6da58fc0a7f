-- The program's outgoing mail: one row per message, its id derived from the event that
-- caused it and the recipient (a retried activity finds it), with every delivery attempt.
CREATE TABLE wwc_outbox (
    message_id   text PRIMARY KEY,
    cause        text NOT NULL,            -- the event: "<stream>@<version>"
    city_key     text NOT NULL,
    kind         text NOT NULL,            -- the template (domain/notices.py)
    recipient    text NOT NULL,
    language     text NOT NULL,
    subject      text NOT NULL,
    body_text    text NOT NULL,
    body_html    text NOT NULL,
    status       text NOT NULL DEFAULT 'pending',  -- pending, sent, held (no mail server)
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz
);
CREATE INDEX wwc_outbox_cause ON wwc_outbox (cause);
CREATE INDEX wwc_outbox_recipient ON wwc_outbox (recipient, created_at);
