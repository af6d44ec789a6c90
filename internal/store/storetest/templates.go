package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/axiomkit/axiom"
)

// createTemplate stores tpl, made now unless it has its times, and returns
// it as stored.
func createTemplate(t *testing.T, s Store, tpl axiom.Template) axiom.Template {
	t.Helper()
	if tpl.CreatedAt.IsZero() {
		tpl.CreatedAt = now()
		tpl.UpdatedAt = tpl.CreatedAt
	}
	if err := s.CreateTemplate(t.Context(), tpl); err != nil {
		t.Fatalf("CreateTemplate(%s): %v", tpl.Slug, err)
	}
	return tpl
}

func checkTemplate(t *testing.T, what string, got, want axiom.Template) {
	t.Helper()
	if got.AccountID != want.AccountID || got.Slug != want.Slug || got.Name != want.Name || got.Subject != want.Subject ||
		got.Content != want.Content || !got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("%s = %+v; want %+v", what, got, want)
	}
}

func testTemplateCRUD(t *testing.T, s Store) {
	ctx := t.Context()
	a := newAccount(t, s)
	want := axiom.NewTemplate(a.ID, axiom.Template{Name: "From API", Subject: "Hello {{name}}", Content: "<p>Hi</p>"}, time.Now())
	createTemplate(t, s, want)
	got, err := s.GetTemplate(ctx, a.ID, want.Slug)
	if err != nil {
		t.Fatalf("GetTemplate: %v", err)
	}
	checkTemplate(t, "GetTemplate", got, want)
	checkStoreTime(t, "template CreatedAt", got.CreatedAt)

	if err := s.CreateTemplate(ctx, axiom.Template{AccountID: a.ID, Slug: want.Slug, Name: "Again", CreatedAt: now(), UpdatedAt: now()}); !errors.Is(err, axiom.ErrDuplicate) {
		t.Errorf("CreateTemplate with a taken slug: error = %v; want ErrDuplicate", err)
	}

	at := want.CreatedAt.Add(time.Minute + 123456)
	updated, err := s.UpdateTemplate(ctx, a.ID, want.Slug, axiom.TemplatePatch{Subject: new("Welcome")}, at)
	if err != nil {
		t.Fatalf("UpdateTemplate: %v", err)
	}
	want.Subject, want.UpdatedAt = "Welcome", axiom.StoreTime(at)
	checkTemplate(t, "UpdateTemplate", updated, want)
	at = at.Add(time.Minute)
	updated, err = s.UpdateTemplate(ctx, a.ID, want.Slug, axiom.TemplatePatch{Name: new("Renamed"), Content: new("")}, at)
	if err != nil {
		t.Fatalf("UpdateTemplate: %v", err)
	}
	want.Name, want.Content, want.UpdatedAt = "Renamed", "", axiom.StoreTime(at)
	checkTemplate(t, "UpdateTemplate", updated, want)
	if got, err := s.GetTemplate(ctx, a.ID, want.Slug); err != nil {
		t.Fatalf("GetTemplate: %v", err)
	} else {
		checkTemplate(t, "GetTemplate after UpdateTemplate", got, want)
	}

	time.Sleep(2 * time.Millisecond) // a later creation time
	other := createTemplate(t, s, axiom.Template{AccountID: a.ID, Slug: "other-00000000", Name: "Other", Subject: "S", Content: "C"})
	list := func() []string {
		t.Helper()
		page, err := s.ListTemplates(ctx, a.ID, axiom.Query{Page: 1, Limit: 10, Sort: "created_at"})
		if err != nil {
			t.Fatalf("ListTemplates: %v", err)
		}
		if page.HasMore {
			t.Errorf("ListTemplates: more after %d templates", len(page.Items))
		}
		var slugs []string
		for _, tpl := range page.Items {
			slugs = append(slugs, tpl.Slug)
		}
		return slugs
	}
	if got := list(); !slices.Equal(got, []string{want.Slug, other.Slug}) {
		t.Errorf("ListTemplates = %v; want [%s %s]", got, want.Slug, other.Slug)
	}

	if err := s.DeleteTemplate(ctx, a.ID, want.Slug, time.Now()); err != nil {
		t.Fatalf("DeleteTemplate: %v", err)
	}
	_, err = s.GetTemplate(ctx, a.ID, want.Slug)
	wantError(t, "GetTemplate after delete", err, axiom.TemplateNotFound(want.Slug))
	_, err = s.UpdateTemplate(ctx, a.ID, want.Slug, axiom.TemplatePatch{Name: new("X")}, time.Now())
	wantError(t, "UpdateTemplate after delete", err, axiom.TemplateNotFound(want.Slug))
	wantError(t, "DeleteTemplate twice", s.DeleteTemplate(ctx, a.ID, want.Slug, time.Now()), axiom.TemplateNotFound(want.Slug))
	if got := list(); !slices.Equal(got, []string{other.Slug}) {
		t.Errorf("ListTemplates after delete = %v; want [%s]", got, other.Slug)
	}
	_, err = s.GetTemplate(ctx, a.ID, "never-00000000")
	wantError(t, "GetTemplate(unknown)", err, axiom.TemplateNotFound("never-00000000"))
	orphan := axiom.NewTemplate("acc_0000000000000000000000", axiom.Template{Name: "X"}, time.Now())
	if err := s.CreateTemplate(ctx, orphan); !errors.Is(err, axiom.ErrNotFound) {
		t.Errorf("CreateTemplate for an unknown account: error = %v; want ErrNotFound", err)
	}
}

func testTemplateIsolation(t *testing.T, s Store) {
	ctx := t.Context()
	a, b := newAccount(t, s), newAccount(t, s)
	tpl := createTemplate(t, s, axiom.Template{AccountID: a.ID, Slug: "welcome-0badf00d", Name: "Welcome", Subject: "S", Content: "C"})
	_, err := s.GetTemplate(ctx, b.ID, tpl.Slug)
	wantError(t, "GetTemplate from another account", err, axiom.TemplateNotFound(tpl.Slug))
	_, err = s.UpdateTemplate(ctx, b.ID, tpl.Slug, axiom.TemplatePatch{Name: new("Mallory")}, time.Now())
	wantError(t, "UpdateTemplate from another account", err, axiom.TemplateNotFound(tpl.Slug))
	wantError(t, "DeleteTemplate from another account", s.DeleteTemplate(ctx, b.ID, tpl.Slug, time.Now()), axiom.TemplateNotFound(tpl.Slug))
	if page, err := s.ListTemplates(ctx, b.ID, axiom.Query{Page: 1, Limit: 10}); err != nil || len(page.Items) != 0 {
		t.Errorf("ListTemplates of another account = %d templates, %v; want none", len(page.Items), err)
	}
	if got, err := s.GetTemplate(ctx, a.ID, tpl.Slug); err != nil {
		t.Fatalf("GetTemplate: %v", err)
	} else {
		checkTemplate(t, "template after another account's attempts", got, tpl)
	}
	// Another account may use the same slug.
	createTemplate(t, s, axiom.Template{AccountID: b.ID, Slug: tpl.Slug, Name: "Theirs", Subject: "S", Content: "C"})
	if got, err := s.GetTemplate(ctx, a.ID, tpl.Slug); err != nil || got.Name != "Welcome" {
		t.Errorf("GetTemplate = %+v, %v; want the first account's", got, err)
	}
}

func testTemplateSlugNeverReused(t *testing.T, s Store) {
	ctx := t.Context()
	a, b := newAccount(t, s), newAccount(t, s)
	const slug = "gone-deadbeef"
	createTemplate(t, s, axiom.Template{AccountID: a.ID, Slug: slug, Name: "Gone", Subject: "S", Content: "C"})
	if err := s.DeleteTemplate(ctx, a.ID, slug, time.Now()); err != nil {
		t.Fatalf("DeleteTemplate: %v", err)
	}
	back := axiom.Template{AccountID: a.ID, Slug: slug, Name: "Back", Subject: "S", Content: "C", CreatedAt: now(), UpdatedAt: now()}
	if err := s.CreateTemplate(ctx, back); !errors.Is(err, axiom.ErrDuplicate) {
		t.Errorf("CreateTemplate with a deleted template's slug: error = %v; want ErrDuplicate", err)
	}
	_, err := s.GetTemplate(ctx, a.ID, slug)
	wantError(t, "GetTemplate of a deleted template", err, axiom.TemplateNotFound(slug))
	// The slug is refused only in the account that used it.
	createTemplate(t, s, axiom.Template{AccountID: b.ID, Slug: slug, Name: "Theirs", Subject: "S", Content: "C"})
}
