-- An account's suppression list: addresses it never mails again. Entries
-- are keyed by the address's comparison form (axiom.EmailKey), never by
-- the address, so that a hash of the key can replace it (erasure) and
-- still leave the address out. campaign_id names the campaign whose
-- message bounced or was unsubscribed from; it outlives that campaign.
CREATE TABLE suppressions (
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    email_key   TEXT NOT NULL,
    email       TEXT NOT NULL,
    reason      TEXT NOT NULL, -- unsubscribed, bounced, complained or manual
    detail      TEXT NOT NULL,
    campaign_id TEXT,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (account_id, email_key)
) STRICT, WITHOUT ROWID;

CREATE INDEX suppressions_created ON suppressions (account_id, created_at, email_key);

-- A claimed message records the worker that holds it (claimed_by) and
-- not_before is the end of that claim, which the worker's heartbeat keeps
-- renewing: a claim whose worker died is free once its last renewal ends.
-- Only the holder records an outcome. bounced marks a message whose address
-- the relay refused for good, which suppressed it.
ALTER TABLE campaign_messages ADD COLUMN claimed_by TEXT;
ALTER TABLE campaign_messages ADD COLUMN bounced INTEGER NOT NULL DEFAULT 0;
