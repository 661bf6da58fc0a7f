-- Whether an account receives the operators' weekly digest (projection "accounts"; set by
-- account.digest_set events, so older rows keep the default).
ALTER TABLE wwc_accounts ADD COLUMN digest boolean NOT NULL DEFAULT true;
