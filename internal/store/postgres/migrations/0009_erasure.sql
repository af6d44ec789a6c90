-- The PostgreSQL twin of SQLite's 0010_erasure.sql: erased messages and
-- suppression entries, suppressions keyed by the SHA-256 of the address's
-- comparison form (axiom.SuppressionKey), and the erasure of the messages
-- of leads deleted before.
ALTER TABLE campaign_messages ADD COLUMN erased_at timestamptz;

ALTER TABLE suppressions
    ADD COLUMN email_sort text COLLATE "C" NOT NULL DEFAULT '',
    ADD COLUMN erased_at  timestamptz;

UPDATE suppressions SET email = '', detail = '', erased_at = now()
WHERE EXISTS (SELECT 1 FROM campaign_messages m WHERE m.account_id = suppressions.account_id
    AND lower(m.to_email) = suppressions.email_key
    AND NOT EXISTS (SELECT 1 FROM leads l WHERE l.id = m.lead_id))
  AND NOT EXISTS (SELECT 1 FROM leads l WHERE l.account_id = suppressions.account_id AND l.email_key = suppressions.email_key);

-- email_sort is axiom.SortKey(email): ASCII letters folded, nothing else.
UPDATE suppressions SET email_key = encode(sha256(convert_to(email_key, 'UTF8')), 'hex'),
    email_sort = translate(email, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz');

CREATE INDEX suppressions_email ON suppressions (account_id, email_sort, email_key);

DELETE FROM legacy_message_links WHERE message_id IN (SELECT m.id FROM campaign_messages m
    WHERE NOT EXISTS (SELECT 1 FROM leads l WHERE l.id = m.lead_id));

UPDATE campaign_messages SET to_email = '', to_name = '', subject = '', html = '', text = '', merge_values = NULL,
    error = '', claimed_by = NULL, lead_id = id,
    status = CASE status WHEN 'queued' THEN 'suppressed' ELSE status END,
    open_token = replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', ''),
    unsubscribe_token = replace(gen_random_uuid()::text, '-', '') || replace(gen_random_uuid()::text, '-', ''),
    erased_at = now()
WHERE NOT EXISTS (SELECT 1 FROM leads l WHERE l.id = campaign_messages.lead_id);

CREATE INDEX campaign_messages_lead ON campaign_messages (account_id, lead_id) WHERE erased_at IS NULL;
