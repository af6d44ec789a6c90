package main

import (
	"fmt"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/axiomkit/axiom/internal/campaign/smtptest"
	"github.com/axiomkit/axiom/internal/pgtest"
)

// workerRE finds the id of a server's campaign worker in its log.
var workerRE = regexp.MustCompile(`"msg":"campaign worker started".*"worker":"(wrk_[0-9A-Za-z]+)"`)

// Two servers on one PostgreSQL share one campaign's outbox: both deliver,
// and no message goes out twice.
func TestTwoServersShareOneCampaign(t *testing.T) {
	pg := pgtest.URL(t)
	db := pgtest.SchemaOf(t, pg)
	bin := buildScaleBinary(t)
	const n = 200
	// Slow enough that one server alone would take seconds: both join in.
	relay := smtptest.New(t, smtptest.WithData(func(string, []string) error {
		time.Sleep(40 * time.Millisecond)
		return nil
	}))
	args := []string{"--db", db, "--smtp-url", relay.URL("starttls=none"), "--public-url", "https://mail.example.test/v1",
		"--send-rate", "0", "--rate-limit", "off"}
	a := startScaleServer(t, bin, args...)
	key := keyRE.FindString(a.stdout.String())
	if key == "" {
		t.Fatalf("the first server printed no key:\n%s", a.stdout.String())
	}
	b := startScaleServer(t, bin, args...)
	workers := map[string]string{}
	for name, s := range map[string]*scaleServer{"first": a, "second": b} {
		m := workerRE.FindStringSubmatch(s.stderr.String())
		if m == nil {
			t.Fatalf("the %s server logged no campaign worker:\n%s", name, s.stderr.String())
		}
		workers[m[1]] = name
	}

	tmpl := scaleDo(t, http.MethodPost, a.base+"/templates/add", key, map[string]any{"name": "News", "subject": "Hi {{name}}", "content": "<p>Hi {{name}}</p>"})
	slug, _ := tmpl.body["data"].(map[string]any)["template"].(string)
	for i := range n {
		s := []*scaleServer{a, b}[i%2]
		if r := scaleDo(t, http.MethodPost, s.base+"/leads/add", key, map[string]any{"name": fmt.Sprint("Lead ", i), "email": fmt.Sprintf("lead%03d@example.com", i)}); r.status != http.StatusCreated {
			t.Fatalf("POST /leads/add: %d %v", r.status, r.body)
		}
	}
	created := scaleDo(t, http.MethodPost, a.base+"/campaigns/add", key, map[string]any{"name": "Shared", "template": slug})
	id, _ := created.body["data"].(map[string]any)["id"].(string)
	if r := scaleDo(t, http.MethodPost, b.base+"/campaigns/"+id+"/send", key, nil); r.status != http.StatusAccepted {
		t.Fatalf("send through the second server: %d %v", r.status, r.body)
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		r := scaleDo(t, http.MethodGet, a.base+"/campaigns/"+id, key, nil)
		data, _ := r.body["data"].(map[string]any)
		if data["status"] == "sent" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the campaign is %v after 90s: %v", data["status"], data["counts"])
		}
		time.Sleep(100 * time.Millisecond)
	}

	got := smtptest.Recipients(relay.Messages())
	for i := range n {
		if to := fmt.Sprintf("lead%03d@example.com", i); got[to] != 1 {
			t.Errorf("%s received %d messages; want 1", to, got[to])
		}
	}
	if len(relay.Messages()) != n {
		t.Fatalf("the relay received %d messages for %d leads", len(relay.Messages()), n)
	}
	// Which worker sent each message, as the claims recorded it.
	conn, err := pgx.Connect(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	rows, err := conn.Query(t.Context(), "SELECT claimed_by, count(*) FROM campaign_messages WHERE campaign_id = $1 AND status = 'sent' GROUP BY claimed_by", id)
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]int{}
	for rows.Next() {
		var worker string
		var count int
		if err := rows.Scan(&worker, &count); err != nil {
			t.Fatal(err)
		}
		if workers[worker] == "" {
			t.Errorf("%d messages were sent by worker %s, neither server's", count, worker)
		}
		by[workers[worker]] = count
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if by["first"] == 0 || by["second"] == 0 || by["first"]+by["second"] != n {
		t.Fatalf("messages sent by server: %v; want both to share the %d", by, n)
	}
	t.Logf("%d messages, one each: %d sent by the first server, %d by the second", n, by["first"], by["second"])
}
