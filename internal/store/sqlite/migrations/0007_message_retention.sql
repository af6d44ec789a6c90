-- A finished campaign whose message bodies were dropped after the
-- retention period (CompactMessages): it is not read again.
ALTER TABLE campaigns ADD COLUMN compacted INTEGER NOT NULL DEFAULT 0;
