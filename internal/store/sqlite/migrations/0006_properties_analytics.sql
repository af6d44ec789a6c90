-- Real-estate listings, their links to leads, and the counts of new leads
-- that lead analytics add up. Times are integer Unix milliseconds (UTC).

-- A price is an integer count of its currency's minor unit (never a float);
-- price_value is the same amount in ten-thousandths of the major unit, the
-- scale at which prices of any currency sort and compare.
CREATE TABLE properties (
    seq             INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    account_id      TEXT NOT NULL REFERENCES accounts (id),
    title           TEXT NOT NULL,
    description     TEXT NOT NULL,
    type            TEXT NOT NULL,
    status          TEXT NOT NULL,
    line1           TEXT NOT NULL,
    line2           TEXT NOT NULL,
    city            TEXT NOT NULL,
    city_key        TEXT NOT NULL, -- axiom.CityKey(city)
    region          TEXT NOT NULL,
    postal_code     TEXT NOT NULL,
    country         TEXT NOT NULL,
    latitude        REAL,
    longitude       REAL,
    price_minor     INTEGER NOT NULL,
    currency        TEXT NOT NULL,
    price_value     INTEGER NOT NULL,
    bedrooms        INTEGER NOT NULL,
    bathrooms       REAL NOT NULL,
    floor_area      REAL,
    floor_area_unit TEXT,
    tags            TEXT NOT NULL, -- JSON array
    custom_fields   TEXT NOT NULL, -- JSON object
    search_text     TEXT NOT NULL, -- ' word word … ': the searchable words, lower-cased
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;

CREATE INDEX properties_created ON properties (account_id, created_at, id);
CREATE INDEX properties_updated ON properties (account_id, updated_at, id);
CREATE INDEX properties_price ON properties (account_id, price_value, id);
CREATE INDEX properties_status ON properties (account_id, status, created_at, id);
CREATE INDEX properties_city ON properties (account_id, city_key, price_value, id);

-- One link per lead and listing, gone with either.
CREATE TABLE property_leads (
    account_id  TEXT NOT NULL,
    property_id TEXT NOT NULL REFERENCES properties (id) ON DELETE CASCADE,
    lead_id     TEXT NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    relation    TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (property_id, lead_id)
) STRICT, WITHOUT ROWID;

CREATE INDEX property_leads_property ON property_leads (property_id, created_at, lead_id);
CREATE INDEX property_leads_lead ON property_leads (lead_id, created_at, property_id);

-- Campaign analytics select the campaigns started in a period.
CREATE INDEX campaigns_started ON campaigns (account_id, started_at, id);

-- The number of an account's leads created in each quarter hour (grain
-- 'q'), hour ('h') and UTC day ('d'), slot being its start: all of them
-- (dim '') and by source, type and status. Every time zone's day starts on
-- a quarter hour, so that a day of any zone is a few day, hour and quarter
-- rows, not a scan of its leads. The triggers keep it exact.
CREATE TABLE lead_counts (
    account_id TEXT NOT NULL,
    grain      TEXT NOT NULL,
    dim        TEXT NOT NULL,
    slot       INTEGER NOT NULL,
    value      TEXT NOT NULL,
    n          INTEGER NOT NULL,
    PRIMARY KEY (account_id, grain, dim, slot, value)
) STRICT, WITHOUT ROWID;

INSERT INTO lead_counts (account_id, grain, dim, slot, value, n)
SELECT l.account_id, g.grain, d.dim, l.created_at - l.created_at % g.size,
       CASE d.dim WHEN '' THEN '' WHEN 'source' THEN l.source WHEN 'type' THEN l.type ELSE l.status END, count(*)
FROM leads l,
     (SELECT 'q' AS grain, 900000 AS size UNION ALL SELECT 'h', 3600000 UNION ALL SELECT 'd', 86400000) g,
     (SELECT '' AS dim UNION ALL SELECT 'source' UNION ALL SELECT 'type' UNION ALL SELECT 'status') d
WHERE true
GROUP BY 1, 2, 3, 4, 5;

CREATE TRIGGER lead_counts_insert AFTER INSERT ON leads BEGIN
    INSERT INTO lead_counts (account_id, grain, dim, slot, value, n) VALUES
        (new.account_id, 'q', '', new.created_at - new.created_at % 900000, '', 1),
        (new.account_id, 'q', 'source', new.created_at - new.created_at % 900000, new.source, 1),
        (new.account_id, 'q', 'type', new.created_at - new.created_at % 900000, new.type, 1),
        (new.account_id, 'q', 'status', new.created_at - new.created_at % 900000, new.status, 1),
        (new.account_id, 'h', '', new.created_at - new.created_at % 3600000, '', 1),
        (new.account_id, 'h', 'source', new.created_at - new.created_at % 3600000, new.source, 1),
        (new.account_id, 'h', 'type', new.created_at - new.created_at % 3600000, new.type, 1),
        (new.account_id, 'h', 'status', new.created_at - new.created_at % 3600000, new.status, 1),
        (new.account_id, 'd', '', new.created_at - new.created_at % 86400000, '', 1),
        (new.account_id, 'd', 'source', new.created_at - new.created_at % 86400000, new.source, 1),
        (new.account_id, 'd', 'type', new.created_at - new.created_at % 86400000, new.type, 1),
        (new.account_id, 'd', 'status', new.created_at - new.created_at % 86400000, new.status, 1)
    ON CONFLICT (account_id, grain, dim, slot, value) DO UPDATE SET n = n + excluded.n;
END;

CREATE TRIGGER lead_counts_delete AFTER DELETE ON leads BEGIN
    INSERT INTO lead_counts (account_id, grain, dim, slot, value, n) VALUES
        (old.account_id, 'q', '', old.created_at - old.created_at % 900000, '', -1),
        (old.account_id, 'q', 'source', old.created_at - old.created_at % 900000, old.source, -1),
        (old.account_id, 'q', 'type', old.created_at - old.created_at % 900000, old.type, -1),
        (old.account_id, 'q', 'status', old.created_at - old.created_at % 900000, old.status, -1),
        (old.account_id, 'h', '', old.created_at - old.created_at % 3600000, '', -1),
        (old.account_id, 'h', 'source', old.created_at - old.created_at % 3600000, old.source, -1),
        (old.account_id, 'h', 'type', old.created_at - old.created_at % 3600000, old.type, -1),
        (old.account_id, 'h', 'status', old.created_at - old.created_at % 3600000, old.status, -1),
        (old.account_id, 'd', '', old.created_at - old.created_at % 86400000, '', -1),
        (old.account_id, 'd', 'source', old.created_at - old.created_at % 86400000, old.source, -1),
        (old.account_id, 'd', 'type', old.created_at - old.created_at % 86400000, old.type, -1),
        (old.account_id, 'd', 'status', old.created_at - old.created_at % 86400000, old.status, -1)
    ON CONFLICT (account_id, grain, dim, slot, value) DO UPDATE SET n = n + excluded.n;
END;

-- A change of source, type or status (the unsubscribe link's included)
-- moves the lead from its old values' counts to its new ones'.
CREATE TRIGGER lead_counts_update AFTER UPDATE OF account_id, created_at, source, type, status ON leads
WHEN old.account_id IS NOT new.account_id OR old.created_at IS NOT new.created_at OR old.source IS NOT new.source
  OR old.type IS NOT new.type OR old.status IS NOT new.status BEGIN
    INSERT INTO lead_counts (account_id, grain, dim, slot, value, n)
    SELECT r.account_id, g.grain, r.dim, r.ms - r.ms % g.size, r.value, sum(r.n)
    FROM (SELECT old.account_id AS account_id, old.created_at AS ms, '' AS dim, '' AS value, -1 AS n
          UNION ALL SELECT old.account_id, old.created_at, 'source', old.source, -1
          UNION ALL SELECT old.account_id, old.created_at, 'type', old.type, -1
          UNION ALL SELECT old.account_id, old.created_at, 'status', old.status, -1
          UNION ALL SELECT new.account_id, new.created_at, '', '', 1
          UNION ALL SELECT new.account_id, new.created_at, 'source', new.source, 1
          UNION ALL SELECT new.account_id, new.created_at, 'type', new.type, 1
          UNION ALL SELECT new.account_id, new.created_at, 'status', new.status, 1) r,
         (SELECT 'q' AS grain, 900000 AS size UNION ALL SELECT 'h', 3600000 UNION ALL SELECT 'd', 86400000) g
    WHERE true
    GROUP BY 1, 2, 3, 4, 5
    HAVING sum(r.n) <> 0
    ON CONFLICT (account_id, grain, dim, slot, value) DO UPDATE SET n = n + excluded.n;
END;
