-- Tracked links per template, not per recipient. A campaign keeps the
-- targets of its template's tracked links once, by position; a message's
-- tracked URL is its open token and the link's position, so that what a
-- message stores does not grow with the links of its template.
CREATE TABLE campaign_link_targets (
    campaign_id TEXT NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    position    INTEGER NOT NULL,
    url         TEXT NOT NULL,
    PRIMARY KEY (campaign_id, position)
) STRICT, WITHOUT ROWID;

-- Messages rendered at send time (merge_values set) all carry the links of
-- their campaign's snapshot: the campaign's targets are theirs. Those
-- still queued are sent with links of the new form.
INSERT INTO campaign_link_targets (campaign_id, position, url)
SELECT m.campaign_id, l.position, min(l.url) FROM campaign_links l
JOIN campaign_messages m ON m.id = l.message_id
WHERE m.merge_values IS NOT NULL
GROUP BY m.campaign_id, l.position;

-- The links of mail sent before, one token per link of each message: kept
-- so that they still redirect and count; no row is added any more. The
-- message's open token goes with each: a message whose open token changes
-- (erased) no longer answers its old links either.
CREATE TABLE legacy_message_links (
    token      TEXT PRIMARY KEY,
    message_id TEXT NOT NULL REFERENCES campaign_messages (id) ON DELETE CASCADE,
    position   INTEGER NOT NULL,
    url        TEXT NOT NULL,
    open_token TEXT NOT NULL,
    UNIQUE (message_id, position)
) STRICT, WITHOUT ROWID;

INSERT INTO legacy_message_links (token, message_id, position, url, open_token)
SELECT l.token, l.message_id, l.position, l.url, m.open_token FROM campaign_links l
JOIN campaign_messages m ON m.id = l.message_id;

-- A click records the position of its link, not a link's token.
ALTER TABLE campaign_events ADD COLUMN link_position INTEGER;
UPDATE campaign_events SET link_position = (SELECT l.position FROM campaign_links l WHERE l.token = campaign_events.link_token)
WHERE kind = 'click';
ALTER TABLE campaign_events DROP COLUMN link_token;

DROP TABLE campaign_links;
