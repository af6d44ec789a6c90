-- Times are integer Unix milliseconds (UTC), so that ordering is exact.

CREATE TABLE accounts (
    id         TEXT PRIMARY KEY,
    plan       TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    name       TEXT NOT NULL,
    hash       BLOB NOT NULL UNIQUE, -- the unique index is the lookup index of KeyByHash
    hint       TEXT NOT NULL,
    read_only  INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
) STRICT;

CREATE INDEX api_keys_account ON api_keys (account_id, created_at, id);

-- seq is the rowid the full-text index refers to; id is the public id.
CREATE TABLE leads (
    seq           INTEGER PRIMARY KEY,
    id            TEXT NOT NULL UNIQUE,
    account_id    TEXT NOT NULL REFERENCES accounts (id),
    name          TEXT NOT NULL,
    email         TEXT NOT NULL,
    email_key     TEXT NOT NULL, -- store.EmailKey(email)
    name_sort     TEXT NOT NULL, -- store.SortKey(name)
    email_sort    TEXT NOT NULL, -- store.SortKey(email)
    phone         TEXT NOT NULL,
    company       TEXT NOT NULL,
    type          TEXT NOT NULL,
    status        TEXT NOT NULL,
    source        TEXT NOT NULL,
    tags          TEXT NOT NULL, -- JSON array
    notes         TEXT NOT NULL, -- JSON array
    custom_fields TEXT NOT NULL, -- JSON object
    search_text   TEXT NOT NULL, -- the searchable words, lower-cased, space-separated
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (account_id, email_key)
) STRICT;

CREATE INDEX leads_created ON leads (account_id, created_at, id);
CREATE INDEX leads_updated ON leads (account_id, updated_at, id);
CREATE INDEX leads_name ON leads (account_id, name_sort, id);
CREATE INDEX leads_email ON leads (account_id, email_sort, id);

-- The words are split and lower-cased by the store (store.SearchWords), so
-- the tokenizer only has to split on the spaces; diacritics are kept because
-- a search word must begin a word exactly.
CREATE VIRTUAL TABLE leads_fts USING fts5 (
    search_text,
    content = 'leads',
    content_rowid = 'seq',
    tokenize = "unicode61 remove_diacritics 0 categories 'L* Nd'",
    prefix = '2 3'
);

CREATE TRIGGER leads_fts_insert AFTER INSERT ON leads BEGIN
    INSERT INTO leads_fts (rowid, search_text) VALUES (new.seq, new.search_text);
END;

CREATE TRIGGER leads_fts_delete AFTER DELETE ON leads BEGIN
    INSERT INTO leads_fts (leads_fts, rowid, search_text) VALUES ('delete', old.seq, old.search_text);
END;

CREATE TRIGGER leads_fts_update AFTER UPDATE OF search_text ON leads
WHEN old.search_text IS NOT new.search_text BEGIN
    INSERT INTO leads_fts (leads_fts, rowid, search_text) VALUES ('delete', old.seq, old.search_text);
    INSERT INTO leads_fts (rowid, search_text) VALUES (new.seq, new.search_text);
END;

-- A deleted template keeps its row with deleted_at set, so that its slug is
-- never used again in the account.
CREATE TABLE templates (
    account_id TEXT NOT NULL REFERENCES accounts (id),
    slug       TEXT NOT NULL,
    name       TEXT NOT NULL,
    name_sort  TEXT NOT NULL, -- store.SortKey(name)
    subject    TEXT NOT NULL,
    content    TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    deleted_at INTEGER,
    PRIMARY KEY (account_id, slug)
) STRICT, WITHOUT ROWID;

CREATE INDEX templates_created ON templates (account_id, created_at, slug) WHERE deleted_at IS NULL;
CREATE INDEX templates_updated ON templates (account_id, updated_at, slug) WHERE deleted_at IS NULL;
CREATE INDEX templates_name ON templates (account_id, name_sort, slug) WHERE deleted_at IS NULL;

CREATE TABLE idempotency (
    account_id   TEXT NOT NULL REFERENCES accounts (id),
    key          TEXT NOT NULL,
    request_hash BLOB NOT NULL,
    status       INTEGER NOT NULL,
    content_type TEXT NOT NULL,
    body         BLOB NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (account_id, key)
) STRICT, WITHOUT ROWID;

CREATE INDEX idempotency_created ON idempotency (created_at);
