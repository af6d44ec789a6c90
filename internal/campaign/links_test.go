package campaign_test

import (
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/campaign"
)

// A send stores the targets of its template's tracked links once per
// campaign: N link rows for a template of N links, whatever the number of
// leads, not one row per link and recipient. With AXIOM_LINKS_MEASURE=1 it
// is one send of a 2,000-link template to 200 leads, and -v prints the
// rows and the size of the database file before and after, its WAL
// checkpointed:
//
//	AXIOM_LINKS_MEASURE=1 go test ./internal/campaign -run TestLinkRowsPerTemplate -count=1 -v
func TestLinkRowsPerTemplate(t *testing.T) {
	links, leads := 120, 30
	if os.Getenv("AXIOM_LINKS_MEASURE") != "" {
		links, leads = 2000, 200
	}
	ctx := t.Context()
	o := newOutbox(t, leads)
	var b strings.Builder
	b.WriteString("<html><body><p>Hi {{first_name}},</p>\n")
	for i := range links {
		fmt.Fprintf(&b, "<p><a href=\"https://acme.example/listing/%d\">Listing %d</a></p>\n", i, i)
	}
	b.WriteString("</body></html>")
	tmpl := axiom.NewTemplate(o.account.ID, axiom.Template{Name: "Many links", Subject: "News for {{name}}", Content: b.String()}, time.Now())
	if err := o.db.CreateTemplate(ctx, tmpl); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(o.dir, "axiom.db")
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// size is the database file's, its WAL written back into it first.
	size := func() int64 {
		t.Helper()
		if _, err := db.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size()

	// One send, its whole audience queued (the rest of it as a worker
	// queues it), nothing delivered.
	c := o.send(t, o.account, tmpl)
	for {
		more, err := o.svc.ResumeEnqueue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !more {
			break
		}
	}
	c, err = o.svc.Get(ctx, o.account.ID, c.ID)
	if err != nil || c.Counts.Recipients != leads {
		t.Fatalf("campaign %+v, %v; want its %d leads queued", c.Counts, err, leads)
	}
	after := size()
	tables, err := db.QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%link%' ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for tables.Next() {
		var name string
		if err := tables.Scan(&name); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	if err := tables.Close(); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, name := range names {
		var n int
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+name).Scan(&n); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d rows", name, n)
		total += n
	}
	t.Logf("one send of a %d-link template (%d bytes) to %d leads: %d link rows; the database file (WAL checkpointed) went from %d to %d bytes, +%d",
		links, len(tmpl.Content), leads, total, before, after, after-before)
	if total != links {
		t.Fatalf("%d link rows; want the template's %d, once for the campaign (not %d, one per link and lead)", total, links, links*leads)
	}
}

// A position is read only as a message writes it: decimal digits, no
// sign, no leading zero, and within what a template can hold.
func TestParseLinkPosition(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"0", 0, true}, {"7", 7, true}, {"1999", 1999, true}, {"999999999", 999999999, true},
		{"", 0, false}, {"00", 0, false}, {"01", 0, false}, {"-1", 0, false}, {"+1", 0, false}, {" 1", 0, false},
		{"1 ", 0, false}, {"1x", 0, false}, {"x", 0, false}, {"1e3", 0, false}, {"0x1", 0, false}, {"١", 0, false},
		{"1000000000", 0, false}, {"99999999999999999999999", 0, false}, {strings.Repeat("9", 128), 0, false},
	} {
		if got, ok := campaign.ParseLinkPosition(tc.in); got != tc.want || ok != tc.ok {
			t.Errorf("ParseLinkPosition(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
