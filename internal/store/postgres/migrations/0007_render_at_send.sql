-- The PostgreSQL twin of SQLite's 0008_render_at_send.sql: a message keeps
-- the merge values its body needs (JSON text; NULL for a row queued
-- before, whose rendered body is kept, and after compaction), and the
-- campaign one snapshot of the template as it was sent.
ALTER TABLE campaign_messages ADD COLUMN merge_values text;

CREATE TABLE campaign_content (
    campaign_id text PRIMARY KEY REFERENCES campaigns (id) ON DELETE CASCADE,
    subject     text NOT NULL,
    content     text NOT NULL
);

INSERT INTO campaign_content (campaign_id, subject, content)
SELECT c.id, t.subject, t.content FROM campaigns c
JOIN templates t ON t.account_id = c.account_id AND t.slug = c.template AND t.deleted_at IS NULL
WHERE c.status = 'sending';
