package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/axiomkit/axiom/gen"
)

func ptr[T any](v T) *T { return &v }

// TestResourceMethods checks that each method sends the documented
// request and reads the documented answer.
func TestResourceMethods(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name       string
		wantMethod string
		wantPath   string
		wantQuery  string
		wantBody   string // JSON, compared after decoding; "" for none
		respond    func(w http.ResponseWriter)
		call       func(c *Client) (Response, string, error)
		wantResult string
	}{
		{
			name: "Leads.List", wantMethod: "GET", wantPath: "/v1/leads", wantQuery: "limit=2&page=3&search=smi&sort=email",
			respond: func(w http.ResponseWriter) {
				writeJSON(w, 200, gen.LeadList{Data: []gen.Lead{sampleLead("cnt_1"), sampleLead("cnt_2")}, Length: 2, HasMore: ptr(true)})
			},
			call: func(c *Client) (Response, string, error) {
				p, err := c.Leads.List(ctx, &gen.ListLeadsParams{Page: ptr(3), Limit: ptr(2), Search: ptr("smi"), Sort: ptr(gen.LeadSortFieldEmail)})
				if err != nil {
					return Response{}, "", err
				}
				return p.Response, p.Leads[0].ID + "," + p.Leads[1].ID + "," + boolString(p.HasMore), nil
			},
			wantResult: "cnt_1,cnt_2,true",
		},
		{
			name: "Leads.Create", wantMethod: "POST", wantPath: "/v1/leads/add",
			wantBody: `{"name":"Jane Doe","email":"jane.doe@example.com","tags":["buyer"]}`,
			respond:  func(w http.ResponseWriter) { writeJSON(w, 201, gen.LeadEnvelope{Data: sampleLead("cnt_9")}) },
			call: func(c *Client) (Response, string, error) {
				l, err := c.Leads.Create(ctx, gen.LeadCreate{Name: "Jane Doe", Email: "jane.doe@example.com", Tags: &[]string{"buyer"}})
				if err != nil {
					return Response{}, "", err
				}
				return l.Response, l.ID + "," + l.Name, nil
			},
			wantResult: "cnt_9,Jane Doe",
		},
		{
			name: "Leads.Get", wantMethod: "GET", wantPath: "/v1/leads/cnt_7",
			respond: func(w http.ResponseWriter) { writeJSON(w, 200, gen.LeadEnvelope{Data: sampleLead("cnt_7")}) },
			call: func(c *Client) (Response, string, error) {
				l, err := c.Leads.Get(ctx, "cnt_7")
				if err != nil {
					return Response{}, "", err
				}
				return l.Response, l.ID + "," + l.Email, nil
			},
			wantResult: "cnt_7,jane.doe@example.com",
		},
		{
			name: "Leads.Update", wantMethod: "PATCH", wantPath: "/v1/leads/cnt_7",
			wantBody: `{"type":"client","tags":[]}`,
			respond: func(w http.ResponseWriter) {
				l := sampleLead("cnt_7")
				l.Type = gen.LeadTypeClient
				writeJSON(w, 200, gen.LeadEnvelope{Data: l})
			},
			call: func(c *Client) (Response, string, error) {
				l, err := c.Leads.Update(ctx, "cnt_7", gen.LeadUpdate{Type: ptr(gen.LeadTypeClient), Tags: &[]string{}})
				if err != nil {
					return Response{}, "", err
				}
				return l.Response, string(l.Type), nil
			},
			wantResult: "client",
		},
		{
			name: "Leads.Delete", wantMethod: "DELETE", wantPath: "/v1/leads/cnt_7",
			respond: func(w http.ResponseWriter) { rateHeaders(w, 97); w.WriteHeader(204) },
			call: func(c *Client) (Response, string, error) {
				r, err := c.Leads.Delete(ctx, "cnt_7")
				if err != nil {
					return Response{}, "", err
				}
				return *r, "deleted", nil
			},
			wantResult: "deleted",
		},
		{
			name: "Templates.List", wantMethod: "GET", wantPath: "/v1/templates", wantQuery: "order=asc",
			respond: func(w http.ResponseWriter) {
				writeJSON(w, 200, gen.TemplateList{Data: []gen.Template{sampleTemplate("from-api-1612d101")}, Length: 1})
			},
			call: func(c *Client) (Response, string, error) {
				p, err := c.Templates.List(ctx, &gen.ListTemplatesParams{Order: ptr(gen.ListTemplatesParamsOrderAsc)})
				if err != nil {
					return Response{}, "", err
				}
				return p.Response, p.Templates[0].Slug + "," + boolString(p.HasMore), nil
			},
			wantResult: "from-api-1612d101,false",
		},
		{
			name: "Templates.Create", wantMethod: "POST", wantPath: "/v1/templates/add",
			wantBody: `{"name":"From API","subject":"Hello","content":"<p>Hi</p>"}`,
			respond: func(w http.ResponseWriter) {
				var created gen.TemplateCreated
				created.Data.Message = gen.TemplateCreatedDataMessageTemplateCreatedSuccessfully
				created.Data.Template = "from-api-1612d101"
				writeJSON(w, 201, created)
			},
			call: func(c *Client) (Response, string, error) {
				r, err := c.Templates.Create(ctx, gen.TemplateCreate{Name: "From API", Subject: "Hello", Content: "<p>Hi</p>"})
				if err != nil {
					return Response{}, "", err
				}
				return r.Response, r.Slug, nil
			},
			wantResult: "from-api-1612d101",
		},
		{
			name: "Templates.Get", wantMethod: "GET", wantPath: "/v1/templates/from-api-1612d101",
			respond: func(w http.ResponseWriter) {
				writeJSON(w, 200, gen.TemplateEnvelope{Data: sampleTemplate("from-api-1612d101")})
			},
			call: func(c *Client) (Response, string, error) {
				r, err := c.Templates.Get(ctx, "from-api-1612d101")
				if err != nil {
					return Response{}, "", err
				}
				return r.Response, r.Subject, nil
			},
			wantResult: "Hello",
		},
		{
			name: "Templates.Update", wantMethod: "PATCH", wantPath: "/v1/templates/from-api-1612d101",
			wantBody: `{"subject":"Bonjour"}`,
			respond: func(w http.ResponseWriter) {
				tp := sampleTemplate("from-api-1612d101")
				tp.Subject = "Bonjour"
				writeJSON(w, 200, gen.TemplateEnvelope{Data: tp})
			},
			call: func(c *Client) (Response, string, error) {
				r, err := c.Templates.Update(ctx, "from-api-1612d101", gen.TemplateUpdate{Subject: ptr("Bonjour")})
				if err != nil {
					return Response{}, "", err
				}
				return r.Response, r.Subject, nil
			},
			wantResult: "Bonjour",
		},
		{
			name: "Templates.Delete", wantMethod: "DELETE", wantPath: "/v1/templates/from-api-1612d101",
			respond: func(w http.ResponseWriter) { rateHeaders(w, 97); w.WriteHeader(204) },
			call: func(c *Client) (Response, string, error) {
				r, err := c.Templates.Delete(ctx, "from-api-1612d101")
				if err != nil {
					return Response{}, "", err
				}
				return *r, "deleted", nil
			},
			wantResult: "deleted",
		},
		{
			name: "Campaigns.List", wantMethod: "GET", wantPath: "/v1/campaigns", wantQuery: "status=draft",
			respond: func(w http.ResponseWriter) {
				writeJSON(w, 200, gen.CampaignList{Data: []gen.Campaign{sampleCampaign("cmp_1", gen.CampaignStatusDraft)}, Length: 1, HasMore: ptr(false)})
			},
			call: func(c *Client) (Response, string, error) {
				p, err := c.Campaigns.List(ctx, &gen.ListCampaignsParams{Status: ptr(gen.CampaignStatusDraft)})
				if err != nil {
					return Response{}, "", err
				}
				return p.Response, p.Campaigns[0].ID, nil
			},
			wantResult: "cmp_1",
		},
		{
			name: "Campaigns.Create", wantMethod: "POST", wantPath: "/v1/campaigns/add",
			wantBody: `{"name":"May newsletter","template":"from-api-1612d101","audience":{"tags":["buyer"]}}`,
			respond: func(w http.ResponseWriter) {
				writeJSON(w, 201, gen.CampaignEnvelope{Data: sampleCampaign("cmp_1", gen.CampaignStatusDraft)})
			},
			call: func(c *Client) (Response, string, error) {
				r, err := c.Campaigns.Create(ctx, gen.CampaignCreate{Name: "May newsletter", Template: "from-api-1612d101", Audience: &gen.CampaignAudience{Tags: &[]string{"buyer"}}})
				if err != nil {
					return Response{}, "", err
				}
				return r.Response, r.ID + "," + string(r.Status), nil
			},
			wantResult: "cmp_1,draft",
		},
		{
			name: "Campaigns.Get", wantMethod: "GET", wantPath: "/v1/campaigns/cmp_1",
			respond: func(w http.ResponseWriter) {
				writeJSON(w, 200, gen.CampaignEnvelope{Data: sampleCampaign("cmp_1", gen.CampaignStatusSent)})
			},
			call: func(c *Client) (Response, string, error) {
				r, err := c.Campaigns.Get(ctx, "cmp_1")
				if err != nil {
					return Response{}, "", err
				}
				return r.Response, string(r.Status), nil
			},
			wantResult: "sent",
		},
		{
			name: "Campaigns.Update", wantMethod: "PATCH", wantPath: "/v1/campaigns/cmp_1", wantBody: `{"name":"June"}`,
			respond: func(w http.ResponseWriter) {
				cp := sampleCampaign("cmp_1", gen.CampaignStatusDraft)
				cp.Name = "June"
				writeJSON(w, 200, gen.CampaignEnvelope{Data: cp})
			},
			call: func(c *Client) (Response, string, error) {
				r, err := c.Campaigns.Update(ctx, "cmp_1", gen.CampaignUpdate{Name: ptr("June")})
				if err != nil {
					return Response{}, "", err
				}
				return r.Response, r.Name, nil
			},
			wantResult: "June",
		},
		{
			name: "Campaigns.Delete", wantMethod: "DELETE", wantPath: "/v1/campaigns/cmp_1",
			respond: func(w http.ResponseWriter) { rateHeaders(w, 97); w.WriteHeader(204) },
			call: func(c *Client) (Response, string, error) {
				r, err := c.Campaigns.Delete(ctx, "cmp_1")
				if err != nil {
					return Response{}, "", err
				}
				return *r, "deleted", nil
			},
			wantResult: "deleted",
		},
		{
			name: "Campaigns.Send", wantMethod: "POST", wantPath: "/v1/campaigns/cmp_1/send",
			respond: func(w http.ResponseWriter) {
				writeJSON(w, 202, gen.CampaignEnvelope{Data: sampleCampaign("cmp_1", gen.CampaignStatusSending)})
			},
			call: func(c *Client) (Response, string, error) {
				r, err := c.Campaigns.Send(ctx, "cmp_1")
				if err != nil {
					return Response{}, "", err
				}
				return r.Response, string(r.Status) + "," + strconv.Itoa(r.StatusCode), nil
			},
			wantResult: "sending,202",
		},
		{
			name: "Campaigns.Schedule", wantMethod: "POST", wantPath: "/v1/campaigns/cmp_1/schedule",
			wantBody: `{"scheduled_at":"2026-06-01T08:00:00Z"}`,
			respond: func(w http.ResponseWriter) {
				cp := sampleCampaign("cmp_1", gen.CampaignStatusScheduled)
				cp.ScheduledAt = ptr(time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC))
				writeJSON(w, 200, gen.CampaignEnvelope{Data: cp})
			},
			call: func(c *Client) (Response, string, error) {
				r, err := c.Campaigns.Schedule(ctx, "cmp_1", time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC))
				if err != nil {
					return Response{}, "", err
				}
				return r.Response, string(r.Status) + "," + r.ScheduledAt.Format(time.RFC3339), nil
			},
			wantResult: "scheduled,2026-06-01T08:00:00Z",
		},
		{
			name: "Campaigns.Cancel", wantMethod: "POST", wantPath: "/v1/campaigns/cmp_1/cancel",
			respond: func(w http.ResponseWriter) {
				writeJSON(w, 200, gen.CampaignEnvelope{Data: sampleCampaign("cmp_1", gen.CampaignStatusCancelled)})
			},
			call: func(c *Client) (Response, string, error) {
				r, err := c.Campaigns.Cancel(ctx, "cmp_1")
				if err != nil {
					return Response{}, "", err
				}
				return r.Response, string(r.Status), nil
			},
			wantResult: "cancelled",
		},
		{
			name: "Campaigns.Stats", wantMethod: "GET", wantPath: "/v1/campaigns/cmp_1/stats",
			respond: func(w http.ResponseWriter) {
				writeJSON(w, 200, gen.CampaignStatsEnvelope{Data: gen.CampaignStats{Recipients: 3, Sent: 3, Opens: 5, UniqueOpens: 2}})
			},
			call: func(c *Client) (Response, string, error) {
				r, err := c.Campaigns.Stats(ctx, "cmp_1")
				if err != nil {
					return Response{}, "", err
				}
				return r.Response, fmt.Sprintf("%d/%d", r.UniqueOpens, r.Recipients), nil
			},
			wantResult: "2/3",
		},
		{
			name: "Campaigns.Messages", wantMethod: "GET", wantPath: "/v1/campaigns/cmp_1/messages", wantQuery: "limit=5",
			respond: func(w http.ResponseWriter) {
				writeJSON(w, 200, gen.CampaignMessageList{Data: []gen.CampaignMessage{{
					ID: "msg_1", LeadID: "cnt_1", To: "jane.doe@example.com", Subject: "Hi",
					Status: gen.CampaignMessageStatusSent, CreatedAt: time.Date(2026, 6, 1, 8, 0, 1, 0, time.UTC),
				}}, Length: 1})
			},
			call: func(c *Client) (Response, string, error) {
				p, err := c.Campaigns.Messages(ctx, "cmp_1", &gen.ListCampaignMessagesParams{Limit: ptr(5)})
				if err != nil {
					return Response{}, "", err
				}
				return p.Response, p.Messages[0].ID + "," + p.Messages[0].To, nil
			},
			wantResult: "msg_1,jane.doe@example.com",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newAPIServer(t, func(w http.ResponseWriter, r *http.Request, _ int) { tt.respond(w) })
			c, _ := newTestClient(t, srv, withValidation(t))
			resp, got, err := tt.call(c)
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			if got != tt.wantResult {
				t.Errorf("result = %q, want %q", got, tt.wantResult)
			}
			if resp.RequestID != "req_01" || resp.RateLimit.Limit != 60 || resp.RateLimit.Reset.IsZero() {
				t.Errorf("response meta = %+v, want request id req_01 and the rate limit", resp)
			}
			reqs := srv.requests()
			if len(reqs) != 1 {
				t.Fatalf("server got %d requests, want 1", len(reqs))
			}
			r := reqs[0]
			q, _ := url.ParseQuery(r.RawQuery)
			if r.Method != tt.wantMethod || r.Path != tt.wantPath || q.Encode() != tt.wantQuery {
				t.Errorf("request = %s %s?%s, want %s %s?%s", r.Method, r.Path, r.RawQuery, tt.wantMethod, tt.wantPath, tt.wantQuery)
			}
			if got := r.Header.Get(HeaderAPIKey); got != testKey {
				t.Errorf("%s = %q, want the key", HeaderAPIKey, got)
			}
			if !strings.HasPrefix(r.Header.Get("User-Agent"), "axiom-go/") {
				t.Errorf("User-Agent = %q, want axiom-go/…", r.Header.Get("User-Agent"))
			}
			if (tt.wantMethod == "POST") != (r.Header.Get("Idempotency-Key") != "") {
				t.Errorf("Idempotency-Key = %q on a %s", r.Header.Get("Idempotency-Key"), tt.wantMethod)
			}
			if tt.wantBody != "" {
				if !jsonEqual(t, r.Body, []byte(tt.wantBody)) {
					t.Errorf("body = %s, want %s", r.Body, tt.wantBody)
				}
				if ct := r.Header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type = %q", ct)
				}
			}
		})
	}
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("decoding %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

func TestUnexpectedSuccessResponse(t *testing.T) {
	tests := []struct {
		name    string
		respond func(w http.ResponseWriter)
	}{
		{"captive portal HTML", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/html")
			w.Write([]byte("<html><title>Sign in to Wi-Fi</title></html>"))
		}},
		{"undeclared 2xx", func(w http.ResponseWriter) { writeJSON(w, 202, map[string]string{"status": "queued"}) }},
		{"broken JSON", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte(`{"data": {"id": `))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newAPIServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) { tt.respond(w) })
			c, _ := newTestClient(t, srv)
			l, err := c.Leads.Get(context.Background(), "cnt_1")
			if err == nil {
				t.Fatalf("Get = %+v, want an error", l)
			}
			if !strings.Contains(err.Error(), "GET /v1/leads/cnt_1") {
				t.Errorf("error %q does not name the request", err)
			}
		})
	}
}

func TestRawClientIsConfigured(t *testing.T) {
	srv := newAPIServer(t, func(w http.ResponseWriter, _ *http.Request, n int) {
		if n == 1 {
			writeError(w, 503, gen.ErrorCodeInternalError, "try again")
			return
		}
		writeJSON(w, 200, gen.LeadEnvelope{Data: sampleLead("cnt_3")})
	})
	c, _ := newTestClient(t, srv)
	res, err := c.Raw().GetLeadWithResponse(context.Background(), "cnt_3")
	if err != nil {
		t.Fatalf("raw GetLead: %v", err)
	}
	if res.JSON200 == nil || res.JSON200.Data.ID != "cnt_3" || res.Headers200 == nil || res.Headers200.XRateLimitLimit != 60 {
		t.Fatalf("raw GetLead = status %d, %+v", res.StatusCode(), res.JSON200)
	}
	reqs := srv.requests()
	if len(reqs) != 2 || reqs[1].Header.Get(HeaderAPIKey) != testKey {
		t.Errorf("raw layer: %d requests, key %q; want a retry with the key", len(reqs), reqs[len(reqs)-1].Header.Get(HeaderAPIKey))
	}
}

func TestRateLimitOfResults(t *testing.T) {
	reset := time.Now().Add(40 * time.Second).Truncate(time.Second)
	srv := newAPIServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("X-RateLimit-Limit", "120")
		w.Header().Set("X-RateLimit-Remaining", "57")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
		writeJSON(w, 200, gen.LeadEnvelope{Data: sampleLead("cnt_1")})
	})
	c, _ := newTestClient(t, srv)
	l, err := c.Leads.Get(context.Background(), "cnt_1")
	if err != nil {
		t.Fatal(err)
	}
	if rl := l.RateLimit; rl.Limit != 120 || rl.Remaining != 57 || !rl.Reset.Equal(reset) {
		t.Errorf("RateLimit = %+v, want 120, 57, %v", rl, reset)
	}
}
