package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/axiomkit/axiom/gen"
)

// leadPager serves n leads, page by page, as the API does; ignorePage
// makes it answer page 1 whatever is asked, and omitHasMore leaves
// has_more out.
func leadPager(n int, ignorePage, omitHasMore bool) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, r *http.Request, _ int) {
		page, limit := 1, 20
		if v := r.URL.Query().Get("page"); v != "" {
			page, _ = strconv.Atoi(v)
		}
		if v := r.URL.Query().Get("limit"); v != "" {
			limit, _ = strconv.Atoi(v)
		}
		if ignorePage {
			page = 1
		}
		from, to := min((page-1)*limit, n), min(page*limit, n)
		list := gen.LeadList{Data: []gen.Lead{}, Length: to - from}
		for i := from; i < to; i++ {
			list.Data = append(list.Data, sampleLead(fmt.Sprintf("cnt_%d", i)))
		}
		if !omitHasMore {
			list.HasMore = ptr(to < n || ignorePage)
		}
		writeJSON(w, 200, list)
	}
}

func TestLeadsAll(t *testing.T) {
	tests := []struct {
		name         string
		leads        int
		ignorePage   bool
		omitHasMore  bool
		params       *gen.ListLeadsParams
		stopAfter    int // break out of the loop after this many leads; 0 never
		wantFirst    int // id number of the first lead yielded
		wantLeads    int
		wantRequests int
		wantErr      error
	}{
		{name: "four pages, the last short", leads: 350, wantLeads: 350, wantRequests: 4},
		{name: "exact pages end on an empty one", leads: 300, omitHasMore: true, wantLeads: 300, wantRequests: 4},
		{name: "exact pages end on has_more false", leads: 300, wantLeads: 300, wantRequests: 3},
		{name: "empty account", leads: 0, wantLeads: 0, wantRequests: 1},
		{name: "caller's page and limit", leads: 45, params: &gen.ListLeadsParams{Page: ptr(3), Limit: ptr(10), Search: ptr("jane")}, wantFirst: 20, wantLeads: 25, wantRequests: 3},
		{name: "lazy: breaking stops the requests", leads: 1000, stopAfter: 150, wantLeads: 150, wantRequests: 2},
		{name: "server ignoring page", leads: 1000, ignorePage: true, wantLeads: 100, wantRequests: 2, wantErr: ErrPaginationStalled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newAPIServer(t, leadPager(tt.leads, tt.ignorePage, tt.omitHasMore))
			c, _ := newTestClient(t, srv)
			var got []string
			var gotErr error
			for lead, err := range c.Leads.All(context.Background(), tt.params) {
				if err != nil {
					gotErr = err
					break
				}
				got = append(got, lead.ID)
				if len(got) == tt.stopAfter {
					break
				}
			}
			if !errors.Is(gotErr, tt.wantErr) {
				t.Errorf("error = %v, want %v", gotErr, tt.wantErr)
			}
			if len(got) != tt.wantLeads {
				t.Errorf("got %d leads, want %d", len(got), tt.wantLeads)
			}
			for i, id := range got {
				if want := fmt.Sprintf("cnt_%d", tt.wantFirst+i); id != want {
					t.Fatalf("lead %d = %s, want %s", i, id, want)
				}
			}
			reqs := srv.requests()
			if len(reqs) != tt.wantRequests {
				t.Errorf("server got %d requests, want %d", len(reqs), tt.wantRequests)
			}
			if tt.params == nil && len(reqs) > 0 && reqs[0].RawQuery != "page=1&limit=100" {
				t.Errorf("first query = %q, want page=1&limit=100", reqs[0].RawQuery)
			}
		})
	}
}

func TestAllStopsOnError(t *testing.T) {
	pager := leadPager(500, false, false)
	srv := newAPIServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 2 {
			writeError(w, 403, gen.ErrorCodeForbidden, "Read-only key")
			return
		}
		pager(w, r, n)
	})
	c, _ := newTestClient(t, srv)
	var leads, errs int
	for _, err := range c.Leads.All(context.Background(), nil) {
		if err != nil {
			errs++
			if !errors.Is(err, ErrForbidden) {
				t.Errorf("error = %v, want ErrForbidden", err)
			}
			continue // the iterator must end by itself
		}
		leads++
	}
	if leads != 100 || errs != 1 || len(srv.requests()) != 2 {
		t.Errorf("got %d leads, %d errors, %d requests; want 100, 1, 2", leads, errs, len(srv.requests()))
	}
}

func TestAllCancelled(t *testing.T) {
	srv := newAPIServer(t, leadPager(500, false, false))
	c, _ := newTestClient(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var leads int
	var gotErr error
	for _, err := range c.Leads.All(ctx, nil) {
		if err != nil {
			gotErr = err
			break
		}
		if leads++; leads == 120 {
			cancel()
		}
	}
	if gotErr != context.Canceled || leads != 200 || len(srv.requests()) != 2 {
		t.Errorf("error %v after %d leads and %d requests; want context.Canceled after 200 and 2", gotErr, leads, len(srv.requests()))
	}
}

func TestTemplatesAll(t *testing.T) {
	const n = 230
	srv := newAPIServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		from, to := min((page-1)*limit, n), min(page*limit, n)
		list := gen.TemplateList{Data: []gen.Template{}, Length: to - from, HasMore: ptr(to < n)}
		for i := from; i < to; i++ {
			list.Data = append(list.Data, sampleTemplate(fmt.Sprintf("t-%08x", i)))
		}
		writeJSON(w, 200, list)
	})
	c, _ := newTestClient(t, srv)
	var got int
	for tp, err := range c.Templates.All(context.Background(), nil) {
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("t-%08x", got); tp.Slug != want {
			t.Fatalf("template %d = %s, want %s", got, tp.Slug, want)
		}
		got++
	}
	if got != n || len(srv.requests()) != 3 {
		t.Errorf("got %d templates in %d requests; want %d in 3", got, len(srv.requests()), n)
	}
}

func TestCampaignsAllAndAllMessages(t *testing.T) {
	const campaigns, messages = 130, 250
	srv := newAPIServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		limit, _ := strconv.Atoi(r.URL.Query().Get("limit"))
		switch r.URL.Path {
		case "/v1/campaigns":
			from, to := min((page-1)*limit, campaigns), min(page*limit, campaigns)
			list := gen.CampaignList{Data: []gen.Campaign{}, Length: to - from}
			for i := from; i < to; i++ {
				list.Data = append(list.Data, sampleCampaign(fmt.Sprintf("cmp_%d", i), gen.CampaignStatusSent))
			}
			writeJSON(w, 200, list)
		case "/v1/campaigns/cmp_7/messages":
			from, to := min((page-1)*limit, messages), min(page*limit, messages)
			list := gen.CampaignMessageList{Data: []gen.CampaignMessage{}, Length: to - from}
			for i := from; i < to; i++ {
				list.Data = append(list.Data, gen.CampaignMessage{ID: fmt.Sprintf("msg_%d", i), LeadID: "cnt_1", To: "a@example.com", Status: gen.CampaignMessageStatusSent})
			}
			writeJSON(w, 200, list)
		default:
			writeError(w, 404, gen.ErrorCodeNotFound, "No such path")
		}
	})
	c, _ := newTestClient(t, srv)
	ctx := context.Background()
	var n int
	for cp, err := range c.Campaigns.All(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		if cp.ID != fmt.Sprintf("cmp_%d", n) {
			t.Fatalf("campaign %d = %s", n, cp.ID)
		}
		n++
	}
	if n != campaigns {
		t.Errorf("Campaigns.All yielded %d, want %d", n, campaigns)
	}
	n = 0
	for m, err := range c.Campaigns.AllMessages(ctx, "cmp_7", nil) {
		if err != nil {
			t.Fatal(err)
		}
		if m.ID != fmt.Sprintf("msg_%d", n) {
			t.Fatalf("message %d = %s", n, m.ID)
		}
		n++
	}
	if n != messages {
		t.Errorf("Campaigns.AllMessages yielded %d, want %d", n, messages)
	}
	if got := len(srv.requests()); got != 2+3 {
		t.Errorf("server got %d requests, want 5", got)
	}
}
