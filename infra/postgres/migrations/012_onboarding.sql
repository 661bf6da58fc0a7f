-- Onboarding by mail (issue 23): invitations and password resets as links, one-time
-- passwords that must be changed, accounts enabled again.

-- Where the account's password stands (projection "accounts"): 'own' (chosen by the
-- person; every account made before this migration), 'none' (invited, no password yet)
-- or 'one_time' (set by an admin: changed at the next sign-in before anything else);
-- and until when its open invitation may be used.
ALTER TABLE wwc_accounts ADD COLUMN password_state text NOT NULL DEFAULT 'own';
ALTER TABLE wwc_accounts ADD COLUMN invited_until timestamptz;

-- The links mailed to people (an invitation, a password reset), by the SHA-256 of their
-- secret: a copy of the table opens nothing. Whether a link still works is the account's
-- stream's to say (used, replaced, expired); this only finds the link a secret names.
CREATE TABLE wwc_link_hashes (
    hash        bytea PRIMARY KEY,
    link_id     text NOT NULL UNIQUE,
    account_id  text NOT NULL,
    kind        text NOT NULL,            -- invitation, reset
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX wwc_link_hashes_account ON wwc_link_hashes (account_id);

-- A message that carries a link with a secret (an invitation, a reset) keeps the link
-- here, not in its body, and only until the message is sent: then it is cleared.
ALTER TABLE wwc_outbox ADD COLUMN link text;
