package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/axiomkit/axiom/server/store"
)

func checkTemplate(t *testing.T, what string, got, want store.Template) {
	t.Helper()
	if got.AccountID != want.AccountID || got.Slug != want.Slug || got.Name != want.Name || got.Subject != want.Subject ||
		got.Content != want.Content || !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("%s = %+v; want %+v", what, got, want)
	}
}

func testTemplateCRUD(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := newAccount(t, s)
	in := store.Template{AccountID: a.ID, Slug: "from-api-1612d101", Name: "From API", Subject: "Hello {{name}}", Content: "<p>Hi</p>"}
	w := begin()
	created, err := s.CreateTemplate(ctx, in)
	w = w.end()
	if err != nil {
		t.Fatalf("CreateTemplate: %v", err)
	}
	checkTime(t, "template CreatedAt", created.CreatedAt, w)
	want := in
	want.CreatedAt, want.UpdatedAt = created.CreatedAt, created.CreatedAt
	checkTemplate(t, "CreateTemplate", created, want)
	got, err := s.GetTemplate(ctx, a.ID, in.Slug)
	if err != nil {
		t.Fatalf("GetTemplate: %v", err)
	}
	checkTemplate(t, "GetTemplate", got, want)

	if _, err := s.CreateTemplate(ctx, store.Template{AccountID: a.ID, Slug: in.Slug, Name: "Again"}); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("CreateTemplate with a taken slug: error = %v; want ErrDuplicate", err)
	}

	time.Sleep(2 * time.Millisecond) // so that the update falls in a later millisecond
	w = begin()
	updated, err := s.UpdateTemplate(ctx, a.ID, in.Slug, store.TemplatePatch{Subject: ptr("Welcome")})
	w = w.end()
	if err != nil {
		t.Fatalf("UpdateTemplate: %v", err)
	}
	checkTime(t, "template UpdatedAt", updated.UpdatedAt, w)
	want.Subject, want.UpdatedAt = "Welcome", updated.UpdatedAt
	checkTemplate(t, "UpdateTemplate", updated, want)
	if !updated.UpdatedAt.After(created.UpdatedAt) {
		t.Errorf("UpdatedAt %v is not after %v", updated.UpdatedAt, created.UpdatedAt)
	}
	updated, err = s.UpdateTemplate(ctx, a.ID, in.Slug, store.TemplatePatch{Name: ptr("Renamed"), Content: ptr("")})
	if err != nil {
		t.Fatalf("UpdateTemplate: %v", err)
	}
	want.Name, want.Content, want.UpdatedAt = "Renamed", "", updated.UpdatedAt
	checkTemplate(t, "UpdateTemplate", updated, want)
	if got, err := s.GetTemplate(ctx, a.ID, in.Slug); err != nil {
		t.Fatalf("GetTemplate: %v", err)
	} else {
		checkTemplate(t, "GetTemplate after UpdateTemplate", got, want)
	}

	other, err := s.CreateTemplate(ctx, store.Template{AccountID: a.ID, Slug: "other-00000000", Name: "Other", Subject: "S", Content: "C"})
	if err != nil {
		t.Fatalf("CreateTemplate: %v", err)
	}
	list := func() []string {
		t.Helper()
		page, err := s.ListTemplates(ctx, a.ID, store.Query{Page: 1, Limit: 10, Sort: "created_at"})
		if err != nil {
			t.Fatalf("ListTemplates: %v", err)
		}
		if page.HasMore {
			t.Errorf("ListTemplates: more after %d templates", len(page.Templates))
		}
		var slugs []string
		for _, tpl := range page.Templates {
			slugs = append(slugs, tpl.Slug)
		}
		return slugs
	}
	if got := list(); !slices.Equal(got, []string{in.Slug, other.Slug}) {
		t.Errorf("ListTemplates = %v; want [%s %s]", got, in.Slug, other.Slug)
	}

	if err := s.DeleteTemplate(ctx, a.ID, in.Slug); err != nil {
		t.Fatalf("DeleteTemplate: %v", err)
	}
	if _, err := s.GetTemplate(ctx, a.ID, in.Slug); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetTemplate after delete: error = %v; want ErrNotFound", err)
	}
	if _, err := s.UpdateTemplate(ctx, a.ID, in.Slug, store.TemplatePatch{Name: ptr("X")}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateTemplate after delete: error = %v; want ErrNotFound", err)
	}
	if err := s.DeleteTemplate(ctx, a.ID, in.Slug); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteTemplate twice: error = %v; want ErrNotFound", err)
	}
	if got := list(); !slices.Equal(got, []string{other.Slug}) {
		t.Errorf("ListTemplates after delete = %v; want [%s]", got, other.Slug)
	}
	if _, err := s.GetTemplate(ctx, a.ID, "never-00000000"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetTemplate(unknown) error = %v; want ErrNotFound", err)
	}
}

func testTemplateIsolation(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := newAccount(t, s), newAccount(t, s)
	tpl, err := s.CreateTemplate(ctx, store.Template{AccountID: a.ID, Slug: "welcome-0badf00d", Name: "Welcome", Subject: "S", Content: "C"})
	if err != nil {
		t.Fatalf("CreateTemplate: %v", err)
	}
	if _, err := s.GetTemplate(ctx, b.ID, tpl.Slug); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetTemplate from another account: error = %v; want ErrNotFound", err)
	}
	if _, err := s.UpdateTemplate(ctx, b.ID, tpl.Slug, store.TemplatePatch{Name: ptr("Mallory")}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateTemplate from another account: error = %v; want ErrNotFound", err)
	}
	if err := s.DeleteTemplate(ctx, b.ID, tpl.Slug); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("DeleteTemplate from another account: error = %v; want ErrNotFound", err)
	}
	if page, err := s.ListTemplates(ctx, b.ID, store.Query{Page: 1, Limit: 10}); err != nil || len(page.Templates) != 0 {
		t.Errorf("ListTemplates of another account = %d templates, %v; want none", len(page.Templates), err)
	}
	if got, err := s.GetTemplate(ctx, a.ID, tpl.Slug); err != nil {
		t.Fatalf("GetTemplate: %v", err)
	} else {
		checkTemplate(t, "template after another account's attempts", got, tpl)
	}
	// Another account may use the same slug.
	if _, err := s.CreateTemplate(ctx, store.Template{AccountID: b.ID, Slug: tpl.Slug, Name: "Theirs", Subject: "S", Content: "C"}); err != nil {
		t.Errorf("CreateTemplate of a slug another account has: %v", err)
	}
	if got, err := s.GetTemplate(ctx, a.ID, tpl.Slug); err != nil || got.Name != "Welcome" {
		t.Errorf("GetTemplate = %+v, %v; want the first account's", got, err)
	}
}

func testTemplateSlugNeverReused(t *testing.T, s store.Store) {
	ctx := t.Context()
	a, b := newAccount(t, s), newAccount(t, s)
	const slug = "gone-deadbeef"
	if _, err := s.CreateTemplate(ctx, store.Template{AccountID: a.ID, Slug: slug, Name: "Gone", Subject: "S", Content: "C"}); err != nil {
		t.Fatalf("CreateTemplate: %v", err)
	}
	if err := s.DeleteTemplate(ctx, a.ID, slug); err != nil {
		t.Fatalf("DeleteTemplate: %v", err)
	}
	if _, err := s.CreateTemplate(ctx, store.Template{AccountID: a.ID, Slug: slug, Name: "Back", Subject: "S", Content: "C"}); !errors.Is(err, store.ErrDuplicate) {
		t.Errorf("CreateTemplate with a deleted template's slug: error = %v; want ErrDuplicate", err)
	}
	if _, err := s.GetTemplate(ctx, a.ID, slug); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetTemplate of a deleted template: error = %v; want ErrNotFound", err)
	}
	// The slug is refused only in the account that used it.
	if _, err := s.CreateTemplate(ctx, store.Template{AccountID: b.ID, Slug: slug, Name: "Theirs", Subject: "S", Content: "C"}); err != nil {
		t.Errorf("CreateTemplate in another account: %v", err)
	}
}
