-- The PostgreSQL twin of SQLite's 0009_links_per_template.sql: a campaign
-- keeps the targets of its template's tracked links once, by position; a
-- message's tracked URL is its open token and the position. The links of
-- mail sent before keep their tokens in legacy_message_links, which no row
-- joins any more, each with its message's open token.
CREATE TABLE campaign_link_targets (
    campaign_id text COLLATE "C" NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    position    integer NOT NULL,
    url         text NOT NULL,
    PRIMARY KEY (campaign_id, position)
);

INSERT INTO campaign_link_targets (campaign_id, position, url)
SELECT m.campaign_id, l.position, min(l.url) FROM campaign_links l
JOIN campaign_messages m ON m.id = l.message_id
WHERE m.merge_values IS NOT NULL
GROUP BY m.campaign_id, l.position;

CREATE TABLE legacy_message_links (
    token      text COLLATE "C" PRIMARY KEY,
    message_id text COLLATE "C" NOT NULL REFERENCES campaign_messages (id) ON DELETE CASCADE,
    position   integer NOT NULL,
    url        text NOT NULL,
    open_token text COLLATE "C" NOT NULL,
    UNIQUE (message_id, position)
);

INSERT INTO legacy_message_links (token, message_id, position, url, open_token)
SELECT l.token, l.message_id, l.position, l.url, m.open_token FROM campaign_links l
JOIN campaign_messages m ON m.id = l.message_id;

ALTER TABLE campaign_events ADD COLUMN link_position integer;
UPDATE campaign_events e SET link_position = l.position FROM campaign_links l
WHERE e.kind = 'click' AND l.token = e.link_token;
ALTER TABLE campaign_events DROP COLUMN link_token;

DROP TABLE campaign_links;
