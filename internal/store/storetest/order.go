package storetest

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
)

// sortNames hold ties, case variants and a non-ASCII first letter, which
// sorts after every ASCII one.
var sortNames = []string{"alice", "Alice", "bob", "Bob", "bob", "Émile", "zoe", "Zoe", "adam", "ALICE", "carl", "Carl", "_under", "123"}

func testLeadSort(t *testing.T, s Store) {
	ctx := t.Context()
	a := newAccount(t, s)
	emails := []string{"Zed@x.com", "alice@x.com", "ALICE2@x.com", "bob@y.com", "Bob2@y.com", "bob3@a.com", "emile@z.com",
		"zoe@a.com", "ZOE2@a.com", "adam@b.com", "alice3@x.com", "carl@c.com", "Carl2@c.com", "_u@u.com"}
	leads := make([]axiom.Lead, len(sortNames))
	for i, name := range sortNames {
		leads[i] = createLead(t, s, axiom.Lead{AccountID: a.ID, Name: name, Email: emails[i]})
		if i%3 == 2 {
			time.Sleep(2 * time.Millisecond) // some leads share a creation time, others do not
		}
	}
	// Update in another order than that of creation, so that the two times
	// order the leads differently.
	for j := range leads {
		i := (j * 5) % len(leads)
		l, err := s.UpdateLead(ctx, a.ID, leads[i].ID, axiom.LeadPatch{Status: new("touched")}, time.Now())
		if err != nil {
			t.Fatalf("UpdateLead: %v", err)
		}
		leads[i] = l
		if j%2 == 1 {
			time.Sleep(2 * time.Millisecond)
		}
	}

	byField := map[string]func(a, b axiom.Lead) int{
		"created_at": func(a, b axiom.Lead) int { return a.CreatedAt.Compare(b.CreatedAt) },
		"updated_at": func(a, b axiom.Lead) int { return a.UpdatedAt.Compare(b.UpdatedAt) },
		"name":       func(a, b axiom.Lead) int { return strings.Compare(axiom.SortKey(a.Name), axiom.SortKey(b.Name)) },
		"email":      func(a, b axiom.Lead) int { return strings.Compare(axiom.SortKey(a.Email), axiom.SortKey(b.Email)) },
	}
	for field, compare := range byField {
		for _, desc := range []bool{false, true} {
			want := slices.Clone(leads)
			slices.SortFunc(want, func(a, b axiom.Lead) int {
				c := cmp.Or(compare(a, b), strings.Compare(a.ID, b.ID))
				if desc {
					return -c
				}
				return c
			})
			got := listAll(t, s, a.ID, axiom.Query{Limit: 4, Sort: field, Desc: desc})
			if !slices.Equal(ids(got), ids(want)) {
				t.Errorf("sort %s desc=%v:\n got %v\nwant %v", field, desc, describe(got, field), describe(want, field))
			}
		}
	}
	// No sort field sorts by creation time.
	got := listAll(t, s, a.ID, axiom.Query{Limit: 5, Desc: true})
	want := listAll(t, s, a.ID, axiom.Query{Limit: 5, Sort: "created_at", Desc: true})
	if !slices.Equal(ids(got), ids(want)) {
		t.Errorf("no sort field: got %v; want the created_at order %v", ids(got), ids(want))
	}
}

// describe shows the leads by the sort field and id, for failure messages.
func describe(leads []axiom.Lead, field string) []string {
	out := make([]string, len(leads))
	for i, l := range leads {
		v := map[string]string{
			"created_at": l.CreatedAt.Format(time.RFC3339Nano),
			"updated_at": l.UpdatedAt.Format(time.RFC3339Nano),
			"name":       l.Name,
			"email":      l.Email,
		}[field]
		out[i] = v + "/" + l.ID
	}
	return out
}

func testTemplateSort(t *testing.T, s Store) {
	ctx := t.Context()
	a := newAccount(t, s)
	tpls := make([]axiom.Template, len(sortNames))
	for i, name := range sortNames {
		// Slugs follow neither the creation order nor the names.
		slug := fmt.Sprintf("tpl-%02d", (i*5)%len(sortNames))
		tpls[i] = createTemplate(t, s, axiom.Template{AccountID: a.ID, Slug: slug, Name: name, Subject: "Hi", Content: "Hello"})
		if i%3 == 2 {
			time.Sleep(2 * time.Millisecond)
		}
	}
	for j := range tpls {
		i := (j * 3) % len(tpls)
		tpl, err := s.UpdateTemplate(ctx, a.ID, tpls[i].Slug, axiom.TemplatePatch{Subject: new("Hi again")}, time.Now())
		if err != nil {
			t.Fatalf("UpdateTemplate: %v", err)
		}
		tpls[i] = tpl
		if j%2 == 1 {
			time.Sleep(2 * time.Millisecond)
		}
	}
	slugs := func(ts []axiom.Template) []string {
		out := make([]string, len(ts))
		for i, t := range ts {
			out[i] = t.Slug
		}
		return out
	}
	byField := map[string]func(a, b axiom.Template) int{
		"created_at": func(a, b axiom.Template) int { return a.CreatedAt.Compare(b.CreatedAt) },
		"updated_at": func(a, b axiom.Template) int { return a.UpdatedAt.Compare(b.UpdatedAt) },
		"name":       func(a, b axiom.Template) int { return strings.Compare(axiom.SortKey(a.Name), axiom.SortKey(b.Name)) },
	}
	for field, compare := range byField {
		for _, desc := range []bool{false, true} {
			want := slices.Clone(tpls)
			slices.SortFunc(want, func(a, b axiom.Template) int {
				c := cmp.Or(compare(a, b), strings.Compare(a.Slug, b.Slug))
				if desc {
					return -c
				}
				return c
			})
			var got []axiom.Template
			q := axiom.Query{Limit: 4, Sort: field, Desc: desc}
			for q.Page = 1; q.Page < 100; q.Page++ {
				page, err := s.ListTemplates(ctx, a.ID, q)
				if err != nil {
					t.Fatalf("ListTemplates(%+v): %v", q, err)
				}
				if len(page.Items) > q.Limit || page.HasMore && len(page.Items) != q.Limit {
					t.Fatalf("ListTemplates(%+v) = %d templates, more %v", q, len(page.Items), page.HasMore)
				}
				got = append(got, page.Items...)
				if !page.HasMore {
					break
				}
			}
			if !slices.Equal(slugs(got), slugs(want)) {
				t.Errorf("sort %s desc=%v:\n got %v\nwant %v", field, desc, slugs(got), slugs(want))
			}
		}
	}
}
