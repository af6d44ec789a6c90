-- The PostgreSQL twin of SQLite's 0007_message_retention.sql: a finished
-- campaign whose message bodies were dropped after the retention period.
ALTER TABLE campaigns ADD COLUMN compacted boolean NOT NULL DEFAULT false;
