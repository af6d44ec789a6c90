-- Erasure: deleting a lead erases its personal data wherever the store
-- keeps it, in the same write (sqlstore's DeleteLead; docs/privacy.md).
--
-- An erased message keeps its status, times and counts for the campaign's
-- statistics; its address, name, subject, merge values, bodies and error
-- are blanked, its tokens replaced by fresh ones nobody holds, its lead_id
-- by its own id, and its links deleted.
ALTER TABLE campaign_messages ADD COLUMN erased_at INTEGER;

-- Suppressions are found by the SHA-256 of the address's comparison form
-- (axiom.SuppressionKey), so that an erased entry keeps only that hash and
-- still leaves the address out. email_sort orders the list by address,
-- which email_key no longer can.
ALTER TABLE suppressions ADD COLUMN email_sort TEXT NOT NULL DEFAULT '';
ALTER TABLE suppressions ADD COLUMN erased_at INTEGER;

-- Messages of leads deleted before this migration are erased now. The
-- addresses they name are erased from the suppression list first, unless
-- a lead of the account still has them.
UPDATE suppressions SET email = '', detail = '', erased_at = CAST(unixepoch('subsec') * 1000 AS INTEGER)
WHERE EXISTS (SELECT 1 FROM campaign_messages m WHERE m.account_id = suppressions.account_id
    AND lower(m.to_email) = suppressions.email_key
    AND NOT EXISTS (SELECT 1 FROM leads l WHERE l.id = m.lead_id))
  AND NOT EXISTS (SELECT 1 FROM leads l WHERE l.account_id = suppressions.account_id AND l.email_key = suppressions.email_key);

UPDATE suppressions SET email_key = axiom_sha256(email_key), email_sort = lower(email);

CREATE INDEX suppressions_email ON suppressions (account_id, email_sort, email_key);

DELETE FROM legacy_message_links WHERE message_id IN (SELECT m.id FROM campaign_messages m
    WHERE NOT EXISTS (SELECT 1 FROM leads l WHERE l.id = m.lead_id));

UPDATE campaign_messages SET to_email = '', to_name = '', subject = '', html = '', text = '', merge_values = NULL,
    error = '', claimed_by = NULL, lead_id = id,
    status = CASE status WHEN 'queued' THEN 'suppressed' ELSE status END,
    open_token = lower(hex(randomblob(16))), unsubscribe_token = lower(hex(randomblob(16))),
    erased_at = CAST(unixepoch('subsec') * 1000 AS INTEGER)
WHERE NOT EXISTS (SELECT 1 FROM leads l WHERE l.id = campaign_messages.lead_id);

CREATE INDEX campaign_messages_lead ON campaign_messages (account_id, lead_id) WHERE erased_at IS NULL;

-- FTS5 removes a deleted lead's words from the index itself rather than
-- recording a delete marker beside them until the next merge.
INSERT INTO leads_fts (leads_fts, rank) VALUES ('secure-delete', 1);
