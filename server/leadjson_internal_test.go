package server

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/axiomkit/axiom/gen"
	"github.com/axiomkit/axiom/internal/genserver"
)

// awkward strings: every escape encoding/json makes, invalid UTF-8, and
// the characters it leaves alone.
var awkward = []string{"", "plain", `quote " and \ back`, "<b>&amp;</b>", "tab\tnl\ncr\r\b\f\x00\x1f\x7f", "é 日本 🏠",
	"bad \xff\xfe utf8", "\u2028\u2029", "trunc \xe2\x82", "$500k-$750k"}

func randomLead(r *rand.Rand) gen.Lead {
	s := func() string {
		if r.IntN(3) == 0 {
			return awkward[r.IntN(len(awkward))]
		}
		b := make([]byte, r.IntN(12))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return string(b)
	}
	list := func() []string {
		if r.IntN(5) == 0 {
			return nil
		}
		out := make([]string, r.IntN(4))
		for i := range out {
			out[i] = s()
		}
		return out
	}
	var custom gen.CustomFields
	if r.IntN(5) > 0 {
		custom = gen.CustomFields{}
		for range r.IntN(12) {
			custom[s()] = s()
		}
	}
	at := time.UnixMilli(r.Int64N(4e12)).UTC()
	if r.IntN(4) == 0 {
		at = at.Add(time.Duration(r.IntN(1e6)))
	}
	return gen.Lead{Company: s(), CreatedAt: at, CustomFields: custom, Email: s(), ID: s(), Name: s(), Notes: list(),
		Phone: s(), Source: s(), Status: gen.LeadStatus(s()), Tags: list(), Type: gen.LeadType(s()), UpdatedAt: at.Add(time.Hour)}
}

// The hand-written encoding writes what the generated response writes
// through encoding/json, byte for byte.
func TestLeadJSONIsEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 13))
	for i := range 2000 {
		var page gen.LeadList
		if i%10 > 0 {
			page.Data = make([]gen.Lead, r.IntN(5))
		}
		for j := range page.Data {
			page.Data[j] = randomLead(r)
		}
		page.Length = len(page.Data)
		if i%3 > 0 {
			more := i%3 == 1
			page.HasMore = &more
		}
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(page); err != nil {
			t.Fatal(err)
		}
		got, err := appendLeadList(nil, page)
		if err != nil || !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("page %d:\n got %s (%v)\nwant %s", i, got, err, want.Bytes())
		}
		if len(page.Data) == 0 {
			continue
		}
		want.Reset()
		if err := json.NewEncoder(&want).Encode(gen.LeadEnvelope{Data: page.Data[0]}); err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		if err := (leadCreatedResponse{Body: gen.LeadEnvelope{Data: page.Data[0]}}).VisitCreateLeadResponse(rec); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(rec.Body.Bytes(), want.Bytes()) || rec.Code != 201 {
			t.Fatalf("lead %d: %d\n got %s\nwant %s", i, rec.Code, rec.Body.Bytes(), want.Bytes())
		}
	}
	// A year encoding/json refuses is refused here too.
	if _, err := appendLead(nil, gen.Lead{CreatedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}); err == nil || !strings.Contains(err.Error(), "year") {
		t.Errorf("year 10000: %v", err)
	}
}

// The headers are the generated response's, as its Visit method sets them.
func TestLeadJSONHeaders(t *testing.T) {
	id := "req_1"
	h := genserver.ListLeads200ResponseHeaders{XRateLimitLimit: 60, XRateLimitRemaining: 59, XRateLimitReset: 1700000000, XRequestID: &id}
	body := gen.LeadList{Data: []gen.Lead{}}
	want, got := httptest.NewRecorder(), httptest.NewRecorder()
	if err := (genserver.ListLeads200JSONResponse{Body: body, Headers: h}).VisitListLeadsResponse(want); err != nil {
		t.Fatal(err)
	}
	if err := (leadListResponse{Body: body, Headers: h}).VisitListLeadsResponse(got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Header(), want.Header()) || got.Code != want.Code || got.Body.String() != want.Body.String() {
		t.Errorf("got %d %v %q, want %d %v %q", got.Code, got.Header(), got.Body, want.Code, want.Header(), want.Body)
	}
}
