-- A campaign's audience is queued in short transactions, batch by batch,
-- rather than in the one that starts it: enqueued is false while some of
-- it is still to be queued, enqueue_cursor is the last lead considered and
-- enqueue_until the end of the hold of the process queuing it, after which
-- another resumes. Campaigns started before were queued whole: the default.
ALTER TABLE campaigns ADD COLUMN enqueued INTEGER NOT NULL DEFAULT 1;
ALTER TABLE campaigns ADD COLUMN enqueue_cursor TEXT NOT NULL DEFAULT '';
ALTER TABLE campaigns ADD COLUMN enqueue_until INTEGER;

-- An idempotency record is first the claim of the request that runs
-- (status 0), named by its token so that only that request answers or
-- releases it. Every record before this was answered.
ALTER TABLE idempotency ADD COLUMN token TEXT NOT NULL DEFAULT '';

-- The one row of bootstrap marks a database given its first account, so
-- that of processes bootstrapping at once exactly one does. A database
-- that already has accounts counts as bootstrapped.
CREATE TABLE bootstrap (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    bootstrapped_at INTEGER NOT NULL
) STRICT;

INSERT INTO bootstrap (id, bootstrapped_at)
SELECT 1, (SELECT min(created_at) FROM accounts) WHERE EXISTS (SELECT 1 FROM accounts);

-- The audience of a campaign is read in id order, one batch at a time.
CREATE INDEX leads_account_id ON leads (account_id, id);
