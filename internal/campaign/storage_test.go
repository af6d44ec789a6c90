package campaign_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/campaign"
	"github.com/axiomkit/axiom/internal/campaign/smtptest"
)

// raceDetector is set when the tests run under the race detector.
var raceDetector bool

// Storage after sending a 500 KB template to 1,000 leads is of the order
// of the template plus the per-recipient rows, not their product: the
// campaign keeps one snapshot of its template, each message its merge
// values and tokens. Rendered copies would take 1,000 templates; the
// bound is 50. Rendering 500 MB takes most of a minute on a shared
// machine: without AXIOM_SLOW_TESTS (CI sets it) the template is 128 KB,
// the bound the same multiple of it.
func TestStorageIsTemplatePlusRecipients(t *testing.T) {
	if raceDetector {
		t.Skip("the race detector makes rendering 128 MB take minutes; the other tests render under it")
	}
	const leads = 1000
	templateSize := 128 << 10
	if os.Getenv("AXIOM_SLOW_TESTS") != "" {
		templateSize = 500 << 10
	}
	o := newOutbox(t, leads)
	var b strings.Builder
	b.WriteString(`<html><body><p>Hi {{first_name}},</p><p><a href="https://acme.example/offer">Our offer</a></p>`)
	for i := 0; b.Len() < templateSize; i++ {
		fmt.Fprintf(&b, "<p>Paragraph %d of the newsletter, the same for every recipient.</p>\n", i)
	}
	b.WriteString("</body></html>")
	big := axiom.NewTemplate(o.account.ID, axiom.Template{Name: "Big", Subject: "News for {{name}}", Content: b.String()}, time.Now())
	if err := o.db.CreateTemplate(t.Context(), big); err != nil {
		t.Fatal(err)
	}
	size := func() int64 {
		var n int64
		for _, suffix := range []string{"", "-wal"} {
			if fi, err := os.Stat(filepath.Join(o.dir, "axiom.db"+suffix)); err == nil {
				n += fi.Size()
			}
		}
		return n
	}
	before := size()

	c := o.send(t, o.account, big)
	// No relay: the worker renders each message (the 2 MiB bound) and keeps
	// it in the outbox, marked sent.
	w, err := campaign.NewWorker(campaign.WorkerConfig{Service: o.svc, Outbox: o.db, Poll: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop) // also when waitSent fails: no worker outlives the test
	// A guard against a worker that never finishes, not a timing assertion:
	// a message a commit, and each a 500 KB render, on a shared machine.
	for deadline := time.Now().Add(5 * time.Minute); c.Status != axiom.CampaignSent; time.Sleep(50 * time.Millisecond) {
		if c, err = o.svc.Get(t.Context(), o.account.ID, c.ID); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("campaign %s is %s, counts %+v, after 5 minutes", c.ID, c.Status, c.Counts)
		}
	}
	stop()
	if c.Counts.Sent != leads {
		t.Fatalf("counts %+v; want %d sent", c.Counts, leads)
	}
	grown := size() - before
	t.Logf("a %d-byte template to %d leads: the database and its WAL grew by %d bytes, %d per message",
		len(big.Content), leads, grown, grown/leads)
	if limit := int64(len(big.Content)) * 50; grown > limit {
		t.Fatalf("the database and its WAL grew by %d bytes; want under the template × 50 (%d): rendered copies are stored", grown, limit)
	}

	// The body is rendered on read, whole, its tokens redacted.
	page, err := o.db.ListMessages(t.Context(), o.account.ID, c.ID, axiom.Query{Page: 1, Limit: 1})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("messages %+v, %v", page, err)
	}
	m, err := o.svc.Message(t.Context(), o.account.ID, c.ID, page.Items[0].ID)
	if err != nil || len(m.HTML) < len(big.Content) || !strings.Contains(m.HTML, "Hi Lead,") ||
		!strings.Contains(m.HTML, "/t/c/"+axiom.Redacted) || m.OpenToken != axiom.Redacted {
		t.Fatalf("the message as read: %d bytes of HTML, open token %q, %v", len(m.HTML), m.OpenToken, err)
	}
}

// A queued message is rendered from the campaign's snapshot of its
// template: editing the template after the send changes no mail. A message
// whose body renders over 2 MiB is recorded failed, never sent, and the
// others go out.
func TestMessagesRenderFromTheSnapshotAndBounded(t *testing.T) {
	o := newOutbox(t, 2)
	huge := axiom.NewLead(o.account.ID, axiom.Lead{Name: "Huge", Email: "huge@example.com",
		CustomFields: map[string]string{"bio": strings.Repeat("x", 4096)}}, time.Now())
	if err := o.db.CreateLead(t.Context(), huge); err != nil {
		t.Fatal(err)
	}
	tmpl := axiom.NewTemplate(o.account.ID, axiom.Template{Name: "Bio", Subject: "Hi {{name}}",
		Content: "<p>Original {{name}}</p>" + strings.Repeat("<p>{{custom.bio}}</p>", 600)}, time.Now())
	if err := o.db.CreateTemplate(t.Context(), tmpl); err != nil {
		t.Fatal(err)
	}
	c := o.send(t, o.account, tmpl)
	edited := "<p>Edited {{name}}</p>"
	if _, err := o.db.UpdateTemplate(t.Context(), o.account.ID, tmpl.Slug, axiom.TemplatePatch{Content: &edited}, time.Now()); err != nil {
		t.Fatal(err)
	}
	relay := smtptest.New(t)
	o.run(t, relay, campaign.WorkerConfig{})
	c = o.waitSent(t, o.account, c)
	if c.Counts.Sent != 2 || c.Counts.Failed != 1 {
		t.Fatalf("counts %+v; want 2 sent and the huge one failed", c.Counts)
	}
	got := relay.Messages()
	if len(got) != 2 {
		t.Fatalf("the relay got %d messages; want 2", len(got))
	}
	for _, m := range got {
		if m.To[0] == huge.Email || !strings.Contains(string(m.Data), "Original") || strings.Contains(string(m.Data), "Edited") {
			t.Errorf("the relay got to %v a message not rendered from the template as sent:\n%.300s", m.To, m.Data)
		}
	}
	page, err := o.db.ListMessages(t.Context(), o.account.ID, c.ID, axiom.Query{Page: 1, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range page.Items {
		if m.To == huge.Email && (m.Status != axiom.MessageFailed || m.Error != campaign.ErrTooLarge.Error()) {
			t.Errorf("the huge message is %s (%q); want failed as larger than 2 MiB", m.Status, m.Error)
		}
	}
}
