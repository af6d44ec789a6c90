-- New leads are indexed for search once per transaction rather than once per
-- insert: FTS5 writes its pending terms to disk at every savepoint, and every
-- statement of a grouped commit (writer.go) opens one, so indexing each lead
-- by itself cost more than storing it. The trigger only notes the lead; the
-- writer indexes the noted leads just before each commit (flushPending), so
-- a committed lead is always searchable.
CREATE TABLE leads_fts_pending (
    seq INTEGER PRIMARY KEY -- leads.seq, not yet in leads_fts
) STRICT;

DROP TRIGGER leads_fts_insert;
DROP TRIGGER leads_fts_delete;
DROP TRIGGER leads_fts_update;

CREATE TRIGGER leads_fts_insert AFTER INSERT ON leads BEGIN
    INSERT INTO leads_fts_pending (seq) VALUES (new.seq);
END;

-- A lead still pending is not in the index: it only leaves the list.
CREATE TRIGGER leads_fts_delete AFTER DELETE ON leads BEGIN
    INSERT INTO leads_fts (leads_fts, rowid, search_text)
    SELECT 'delete', old.seq, old.search_text
    WHERE NOT EXISTS (SELECT 1 FROM leads_fts_pending WHERE seq = old.seq);
    DELETE FROM leads_fts_pending WHERE seq = old.seq;
END;

-- A lead still pending is indexed with its text as it is at the commit.
CREATE TRIGGER leads_fts_update AFTER UPDATE OF search_text ON leads
WHEN old.search_text IS NOT new.search_text
 AND NOT EXISTS (SELECT 1 FROM leads_fts_pending WHERE seq = old.seq) BEGIN
    INSERT INTO leads_fts (leads_fts, rowid, search_text) VALUES ('delete', old.seq, old.search_text);
    INSERT INTO leads_fts (rowid, search_text) VALUES (new.seq, new.search_text);
END;
