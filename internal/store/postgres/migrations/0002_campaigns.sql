-- Campaigns, their outbox (one message per recipient) and tracking events:
-- the PostgreSQL twin of the SQLite schema.

CREATE TABLE campaigns (
    id           text COLLATE "C" PRIMARY KEY,
    account_id   text COLLATE "C" NOT NULL REFERENCES accounts (id),
    name         text NOT NULL,
    name_sort    text COLLATE "C" NOT NULL, -- store.SortKey(name)
    template     text COLLATE "C" NOT NULL, -- the template's slug
    audience     jsonb NOT NULL,            -- {"tags":[],"types":[],"statuses":[]}
    status       text NOT NULL,
    scheduled_at timestamptz,
    started_at   timestamptz,
    completed_at timestamptz,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);

CREATE INDEX campaigns_created ON campaigns (account_id, created_at, id);
CREATE INDEX campaigns_updated ON campaigns (account_id, updated_at, id);
CREATE INDEX campaigns_name ON campaigns (account_id, name_sort, id);
CREATE INDEX campaigns_due ON campaigns (scheduled_at) WHERE status = 'scheduled';
CREATE INDEX campaigns_sending ON campaigns (id) WHERE status = 'sending';

-- A queued message is free to claim once not_before has passed: a claim
-- sets it to the end of the lease, a failed attempt to the retry time.
-- Claims lock the rows they take (FOR UPDATE SKIP LOCKED), so that servers
-- sharing the database never take the same message.
-- UNIQUE (campaign_id, lead_id) makes a second message to a lead impossible.
CREATE TABLE campaign_messages (
    seq               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- the order of recipients
    id                text COLLATE "C" NOT NULL UNIQUE,
    campaign_id       text COLLATE "C" NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    account_id        text COLLATE "C" NOT NULL,
    lead_id           text COLLATE "C" NOT NULL,
    to_email          text NOT NULL,
    to_name           text NOT NULL,
    subject           text NOT NULL,
    html              text NOT NULL,
    text              text NOT NULL,
    open_token        text COLLATE "C" NOT NULL UNIQUE,
    unsubscribe_token text COLLATE "C" NOT NULL UNIQUE,
    status            text NOT NULL,
    error             text NOT NULL DEFAULT '',
    attempts          integer NOT NULL DEFAULT 0,
    not_before        timestamptz NOT NULL DEFAULT '-infinity',
    sent_at           timestamptz,
    unsubscribed_at   timestamptz,
    created_at        timestamptz NOT NULL,
    UNIQUE (campaign_id, lead_id)
);

CREATE INDEX campaign_messages_campaign ON campaign_messages (campaign_id, status, seq);
CREATE INDEX campaign_messages_queued ON campaign_messages (not_before, seq) WHERE status = 'queued';

CREATE TABLE campaign_links (
    token      text COLLATE "C" PRIMARY KEY,
    message_id text COLLATE "C" NOT NULL REFERENCES campaign_messages (id) ON DELETE CASCADE,
    position   integer NOT NULL,
    url        text NOT NULL,
    UNIQUE (message_id, position)
);

-- kind is 'open' or 'click'.
CREATE TABLE campaign_events (
    campaign_id text COLLATE "C" NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    message_id  text COLLATE "C" NOT NULL,
    kind        text NOT NULL,
    link_token  text,
    at          timestamptz NOT NULL
);

CREATE INDEX campaign_events_campaign ON campaign_events (campaign_id, kind, message_id);
