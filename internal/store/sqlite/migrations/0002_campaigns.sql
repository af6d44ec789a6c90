-- Campaigns, their outbox (one message per recipient) and tracking events.
-- Times are integer Unix milliseconds (UTC).

CREATE TABLE campaigns (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (id),
    name         TEXT NOT NULL,
    name_sort    TEXT NOT NULL, -- store.SortKey(name)
    template     TEXT NOT NULL, -- the template's slug
    audience     TEXT NOT NULL, -- JSON {"tags":[],"types":[],"statuses":[]}
    status       TEXT NOT NULL,
    scheduled_at INTEGER,
    started_at   INTEGER,
    completed_at INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;

CREATE INDEX campaigns_created ON campaigns (account_id, created_at, id);
CREATE INDEX campaigns_updated ON campaigns (account_id, updated_at, id);
CREATE INDEX campaigns_name ON campaigns (account_id, name_sort, id);
CREATE INDEX campaigns_due ON campaigns (scheduled_at) WHERE status = 'scheduled';
CREATE INDEX campaigns_sending ON campaigns (id) WHERE status = 'sending';

-- A queued message is free to claim once not_before has passed: a claim
-- sets it to the end of the lease, a failed attempt to the retry time.
-- UNIQUE (campaign_id, lead_id) makes a second message to a lead impossible.
CREATE TABLE campaign_messages (
    seq               INTEGER PRIMARY KEY, -- the order of recipients
    id                TEXT NOT NULL UNIQUE,
    campaign_id       TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    account_id        TEXT NOT NULL,
    lead_id           TEXT NOT NULL,
    to_email          TEXT NOT NULL,
    to_name           TEXT NOT NULL,
    subject           TEXT NOT NULL,
    html              TEXT NOT NULL,
    text              TEXT NOT NULL,
    open_token        TEXT NOT NULL UNIQUE,
    unsubscribe_token TEXT NOT NULL UNIQUE,
    status            TEXT NOT NULL,
    error             TEXT NOT NULL DEFAULT '',
    attempts          INTEGER NOT NULL DEFAULT 0,
    not_before        INTEGER NOT NULL DEFAULT 0,
    sent_at           INTEGER,
    unsubscribed_at   INTEGER,
    created_at        INTEGER NOT NULL,
    UNIQUE (campaign_id, lead_id)
) STRICT;

CREATE INDEX campaign_messages_campaign ON campaign_messages (campaign_id, status, seq);
CREATE INDEX campaign_messages_queued ON campaign_messages (not_before, seq) WHERE status = 'queued';

CREATE TABLE campaign_links (
    token      TEXT PRIMARY KEY,
    message_id TEXT NOT NULL REFERENCES campaign_messages (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    url        TEXT NOT NULL,
    UNIQUE (message_id, position)
) STRICT, WITHOUT ROWID;

-- kind is 'open' or 'click'.
CREATE TABLE campaign_events (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    message_id  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    link_token  TEXT,
    at          INTEGER NOT NULL
) STRICT;

CREATE INDEX campaign_events_campaign ON campaign_events (campaign_id, kind, message_id);
