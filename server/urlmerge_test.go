package server_test

import (
	"strings"
	"testing"
	"time"

	"github.com/axiomkit/axiom/gen"
	"github.com/axiomkit/axiom/internal/campaign/smtptest"
	"github.com/axiomkit/axiom/server/servertest"
)

// A lead's values are merged into a template's URLs encoded for their
// place; a lead whose value would change a link's host gets no mail, and
// its message is recorded failed saying which link and field, the same in
// the listing and when read.
func TestMergedURLsCannotMoveALink(t *testing.T) {
	relay := smtptest.New(t)
	srv := newServer(t, servertest.WithSMTP(relay.URL("starttls=none")))
	a := api{t, srv, srv.Key}
	a.lead("Paula Good", "paula@example.com", nil, "", map[string]string{"city": "paris", "ref": "a&admin=1", "page": "../../admin"})
	a.lead("Eve Steer", "eve@example.com", nil, "", map[string]string{"city": "evil.test/x?", "ref": "b", "page": "p"})
	slug := a.template("Offers", `<p><a href="https://example.com/about">About</a>
<a href="https://{{custom.city}}.shop.example/offers/{{custom.page}}?ref={{custom.ref}}&amp;lang=en">Offers in {{custom.city}}</a></p>`)
	c := a.campaign(map[string]any{"name": "Cities", "template": slug})
	a.send(c.ID)
	done := a.waitStatus(c.ID, gen.CampaignStatusSent)
	if done.Counts != (gen.CampaignCounts{Recipients: 2, Sent: 1, Failed: 1}) {
		t.Fatalf("counts %+v; want Paula's sent, Eve's failed", done.Counts)
	}

	got := relay.WaitFor(1, 5*time.Second)
	if r := smtptest.Recipients(relay.Messages()); !equalCounts(r, map[string]int{"paula@example.com": 1}) {
		t.Fatalf("relay received %v; want Paula's message alone", r)
	}
	msg, err := got[0].Parse()
	if err != nil {
		t.Fatal(err)
	}
	body := mimeParts(t, msg)["text/html"]
	if want := `href="https://paris.shop.example/offers/..%2F..%2Fadmin?ref=a%26admin%3D1&amp;lang=en"`; !strings.Contains(body, want) {
		t.Errorf("Paula's link is not encoded for its place; want %s in\n%s", want, body)
	}

	reason := "link 2 (href of <a>): the value of custom.city would change the link's host"
	for _, m := range a.messages(c.ID) {
		var env gen.CampaignMessageEnvelope
		a.do("GET", "/campaigns/"+c.ID+"/messages/"+m.ID, nil, 200, &env)
		full := env.Data
		switch m.To {
		case "eve@example.com":
			if m.Status != gen.CampaignMessageStatusFailed || !strings.Contains(m.Error, reason) || m.SentAt != nil {
				t.Errorf("Eve's message in the listing: %+v; want failed: %s", m, reason)
			}
			if full.Status != m.Status || full.Error != m.Error || (full.HTML != nil && *full.HTML != "") {
				t.Errorf("Eve's message read: %+v; want it as listed, without a body", full)
			}
		default:
			if m.Status != gen.CampaignMessageStatusSent || m.Error != "" || full.Error != "" || full.HTML == nil ||
				!strings.Contains(*full.HTML, "https://paris.shop.example/offers/") {
				t.Errorf("Paula's message: %+v, read %+v", m, full)
			}
		}
	}
}

// Read before the worker reaches it, a message that will be refused is
// answered 200 without a body, still queued, with the error it will fail
// with.
func TestRefusedMessageReadBeforeSending(t *testing.T) {
	srv := newServer(t, servertest.WithoutCampaignWorker())
	a := api{t, srv, srv.Key}
	a.lead("Eve Steer", "eve@example.com", nil, "", map[string]string{"site": "evil.test/x?"})
	c := a.campaign(map[string]any{"name": "Sites", "template": a.template("Hi", `<p><img src="https://{{custom.site}}.cdn.example/logo.png"></p>`)})
	a.send(c.ID)
	ms := a.messages(c.ID)
	if len(ms) != 1 || ms[0].Status != gen.CampaignMessageStatusQueued {
		t.Fatalf("messages %+v; want Eve's queued", ms)
	}
	var env gen.CampaignMessageEnvelope
	a.do("GET", "/campaigns/"+c.ID+"/messages/"+ms[0].ID, nil, 200, &env)
	want := "link 1 (src of <img>): the value of custom.site would change the link's host"
	if m := env.Data; m.Status != gen.CampaignMessageStatusQueued || !strings.Contains(m.Error, want) || (m.HTML != nil && *m.HTML != "") {
		t.Errorf("message read: %+v; want queued, without a body, error %q", m, want)
	}
}
