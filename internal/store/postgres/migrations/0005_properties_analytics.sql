-- The PostgreSQL twin of SQLite's 0005_properties_analytics.sql: listings,
-- their links to leads, and the counts of new leads that lead analytics add
-- up.

-- A price is an integer count of its currency's minor unit (never a float);
-- price_value is the same amount in ten-thousandths of the major unit, the
-- scale at which prices of any currency sort and compare.
CREATE TABLE properties (
    id              text COLLATE "C" PRIMARY KEY,
    account_id      text COLLATE "C" NOT NULL REFERENCES accounts (id),
    title           text NOT NULL,
    description     text NOT NULL,
    type            text COLLATE "C" NOT NULL,
    status          text COLLATE "C" NOT NULL,
    line1           text NOT NULL,
    line2           text NOT NULL,
    city            text COLLATE "C" NOT NULL,
    city_key        text COLLATE "C" NOT NULL, -- axiom.CityKey(city)
    region          text NOT NULL,
    postal_code     text NOT NULL,
    country         text COLLATE "C" NOT NULL,
    latitude        double precision,
    longitude       double precision,
    price_minor     bigint NOT NULL,
    currency        text COLLATE "C" NOT NULL,
    price_value     bigint NOT NULL,
    bedrooms        integer NOT NULL,
    bathrooms       double precision NOT NULL,
    floor_area      double precision,
    floor_area_unit text,
    tags            jsonb NOT NULL,
    custom_fields   jsonb NOT NULL,
    search_text     text COLLATE "C" NOT NULL, -- ' word word … ': the searchable words, lower-cased
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);

CREATE INDEX properties_created ON properties (account_id, created_at, id);
CREATE INDEX properties_updated ON properties (account_id, updated_at, id);
CREATE INDEX properties_price ON properties (account_id, price_value, id);
CREATE INDEX properties_status ON properties (account_id, status, created_at, id);
CREATE INDEX properties_city ON properties (account_id, city_key, price_value, id);

-- One link per lead and listing, gone with either.
CREATE TABLE property_leads (
    account_id  text COLLATE "C" NOT NULL,
    property_id text COLLATE "C" NOT NULL REFERENCES properties (id) ON DELETE CASCADE,
    lead_id     text COLLATE "C" NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    relation    text NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (property_id, lead_id)
);

CREATE INDEX property_leads_property ON property_leads (property_id, created_at, lead_id);
CREATE INDEX property_leads_lead ON property_leads (lead_id, created_at, property_id);

-- Campaign analytics select the campaigns started in a period.
CREATE INDEX campaigns_started ON campaigns (account_id, started_at, id);

-- The number of an account's leads created in each quarter hour (grain
-- 'q'), hour ('h') and UTC day ('d'), slot being its start in Unix
-- milliseconds: all of them (dim '') and by source, type and status. The
-- trigger keeps it exact.
CREATE TABLE lead_counts (
    account_id text COLLATE "C" NOT NULL,
    grain      text COLLATE "C" NOT NULL,
    dim        text COLLATE "C" NOT NULL,
    slot       bigint NOT NULL,
    value      text COLLATE "C" NOT NULL,
    n          bigint NOT NULL,
    PRIMARY KEY (account_id, grain, dim, slot, value)
);

CREATE FUNCTION lead_ms(t timestamptz) RETURNS bigint LANGUAGE sql IMMUTABLE
    AS $$ SELECT (extract(epoch FROM t) * 1000)::bigint $$;

INSERT INTO lead_counts (account_id, grain, dim, slot, value, n)
SELECT l.account_id, g.grain, d.dim, lead_ms(l.created_at) - lead_ms(l.created_at) % g.size,
       CASE d.dim WHEN '' THEN '' WHEN 'source' THEN l.source WHEN 'type' THEN l.type ELSE l.status END, count(*)
FROM leads l
CROSS JOIN (VALUES ('q', 900000::bigint), ('h', 3600000::bigint), ('d', 86400000::bigint)) AS g (grain, size)
CROSS JOIN (VALUES (''), ('source'), ('type'), ('status')) AS d (dim)
GROUP BY 1, 2, 3, 4, 5;

-- The counts a lead leaves (OLD, -1) and joins (NEW, +1), summed by row and
-- written in key order, so that concurrent changes lock counts in one
-- order and never deadlock.
CREATE FUNCTION lead_counts_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO lead_counts AS c (account_id, grain, dim, slot, value, n)
    SELECT r.account_id, g.grain, r.dim, r.ms - r.ms % g.size, r.value, sum(r.n)
    FROM (
        SELECT OLD.account_id AS account_id, lead_ms(OLD.created_at) AS ms, d.dim, d.value, -1 AS n
        FROM (VALUES ('', ''), ('source', OLD.source), ('type', OLD.type), ('status', OLD.status)) AS d (dim, value)
        WHERE TG_OP <> 'INSERT'
        UNION ALL
        SELECT NEW.account_id, lead_ms(NEW.created_at), d.dim, d.value, 1
        FROM (VALUES ('', ''), ('source', NEW.source), ('type', NEW.type), ('status', NEW.status)) AS d (dim, value)
        WHERE TG_OP <> 'DELETE'
    ) r
    CROSS JOIN (VALUES ('q', 900000::bigint), ('h', 3600000::bigint), ('d', 86400000::bigint)) AS g (grain, size)
    GROUP BY 1, 2, 3, 4, 5
    HAVING sum(r.n) <> 0
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (account_id, grain, dim, slot, value) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END
$$;

CREATE TRIGGER lead_counts_change AFTER INSERT OR DELETE OR UPDATE OF account_id, created_at, source, type, status
    ON leads FOR EACH ROW EXECUTE FUNCTION lead_counts_change();
