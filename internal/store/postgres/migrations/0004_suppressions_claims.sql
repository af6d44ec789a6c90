-- The PostgreSQL twin of SQLite's 0005_suppressions_claims.sql.

-- An account's suppression list: addresses it never mails again. Entries
-- are keyed by the address's comparison form (axiom.EmailKey), never by
-- the address, so that a hash of the key can replace it (erasure) and
-- still leave the address out. campaign_id names the campaign whose
-- message bounced or was unsubscribed from; it outlives that campaign.
CREATE TABLE suppressions (
    account_id  text COLLATE "C" NOT NULL REFERENCES accounts (id),
    email_key   text COLLATE "C" NOT NULL,
    email       text NOT NULL,
    reason      text NOT NULL, -- unsubscribed, bounced, complained or manual
    detail      text NOT NULL,
    campaign_id text COLLATE "C",
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (account_id, email_key)
);

CREATE INDEX suppressions_created ON suppressions (account_id, created_at, email_key);

-- A claimed message records the worker that holds it (claimed_by) and
-- not_before is the end of that claim, which the worker's heartbeat keeps
-- renewing: a claim whose worker died is free once its last renewal ends.
-- Only the holder records an outcome. bounced marks a message whose address
-- the relay refused for good, which suppressed it.
ALTER TABLE campaign_messages
    ADD COLUMN claimed_by text COLLATE "C",
    ADD COLUMN bounced    boolean NOT NULL DEFAULT false;
