-- The PostgreSQL twin of the SQLite schema: same tables, same keys, same
-- derived columns computed by the store, so that both backends answer alike.
-- Times are timestamptz holding whole milliseconds (UTC), as the store
-- stamps them. Every column that orders or identifies is COLLATE "C", so
-- that text sorts byte by byte, as in SQLite, whatever the database's locale.

CREATE TABLE accounts (
    id         text COLLATE "C" PRIMARY KEY,
    plan       text NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE api_keys (
    id         text COLLATE "C" PRIMARY KEY,
    account_id text COLLATE "C" NOT NULL REFERENCES accounts (id),
    name       text NOT NULL,
    hash       bytea NOT NULL UNIQUE, -- the unique index is the lookup index of KeyByHash
    hint       text NOT NULL,
    read_only  boolean NOT NULL,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);

CREATE INDEX api_keys_account ON api_keys (account_id, created_at, id);

CREATE TABLE leads (
    id            text COLLATE "C" PRIMARY KEY,
    account_id    text COLLATE "C" NOT NULL REFERENCES accounts (id),
    name          text NOT NULL,
    email         text NOT NULL,
    email_key     text COLLATE "C" NOT NULL, -- store.EmailKey(email)
    name_sort     text COLLATE "C" NOT NULL, -- store.SortKey(name)
    email_sort    text COLLATE "C" NOT NULL, -- store.SortKey(email)
    phone         text NOT NULL,
    company       text NOT NULL,
    type          text NOT NULL,
    status        text NOT NULL,
    source        text NOT NULL,
    tags          text[] NOT NULL,
    notes         text[] NOT NULL,
    custom_fields jsonb NOT NULL,
    -- The searchable words (store.SearchWords of name, email, company, phone
    -- and tags) as lexemes taken verbatim: no parser, dictionary or stemmer
    -- of PostgreSQL's decides what a word is.
    search        tsvector NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    -- Case-insensitive uniqueness of an email within an account.
    UNIQUE (account_id, email_key)
);

CREATE INDEX leads_created ON leads (account_id, created_at, id);
CREATE INDEX leads_updated ON leads (account_id, updated_at, id);
CREATE INDEX leads_name ON leads (account_id, name_sort, id);
CREATE INDEX leads_email ON leads (account_id, email_sort, id);
-- Answers prefix queries ('word':*) as well as whole words.
CREATE INDEX leads_search ON leads USING gin (search);

-- A deleted template keeps its row with deleted_at set, so that its slug is
-- never used again in the account.
CREATE TABLE templates (
    account_id text COLLATE "C" NOT NULL REFERENCES accounts (id),
    slug       text COLLATE "C" NOT NULL,
    name       text NOT NULL,
    name_sort  text COLLATE "C" NOT NULL, -- store.SortKey(name)
    subject    text NOT NULL,
    content    text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    deleted_at timestamptz,
    PRIMARY KEY (account_id, slug)
);

CREATE INDEX templates_created ON templates (account_id, created_at, slug) WHERE deleted_at IS NULL;
CREATE INDEX templates_updated ON templates (account_id, updated_at, slug) WHERE deleted_at IS NULL;
CREATE INDEX templates_name ON templates (account_id, name_sort, slug) WHERE deleted_at IS NULL;

CREATE TABLE idempotency (
    account_id   text COLLATE "C" NOT NULL REFERENCES accounts (id),
    key          text COLLATE "C" NOT NULL,
    request_hash bytea NOT NULL,
    status       integer NOT NULL,
    content_type text NOT NULL,
    body         bytea NOT NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (account_id, key)
);

CREATE INDEX idempotency_created ON idempotency (created_at);
