-- Store once, render at send time. A message keeps the merge values its
-- body needs (JSON, of the fields the template uses) and its tokens, not
-- a rendered copy of the template; the campaign keeps one snapshot of the
-- template as it was sent. A row queued before this migration keeps its
-- rendered html and text, and merge_values NULL: it is sent and read as
-- stored. NULL after compaction too.
ALTER TABLE campaign_messages ADD COLUMN merge_values TEXT;

CREATE TABLE campaign_content (
    campaign_id TEXT PRIMARY KEY REFERENCES campaigns (id) ON DELETE CASCADE,
    subject     TEXT NOT NULL,
    content     TEXT NOT NULL
) STRICT;

-- A campaign whose audience was still being queued goes on with its
-- template as it is now (before, the enqueuer read it at each resume).
INSERT INTO campaign_content (campaign_id, subject, content)
SELECT c.id, t.subject, t.content FROM campaigns c
JOIN templates t ON t.account_id = c.account_id AND t.slug = c.template AND t.deleted_at IS NULL
WHERE c.status = 'sending';
