package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/axiomkit/axiom/gen"
	"github.com/axiomkit/axiom/server/apierror"
	"github.com/axiomkit/axiom/server/store"
)

func (h *handlers) ListTemplates(ctx context.Context, r gen.ListTemplatesRequestObject) (gen.ListTemplatesResponseObject, error) {
	q := query(r.Params.Page, r.Params.Limit, (*string)(r.Params.Sort), (*string)(r.Params.Order))
	page, err := h.store.ListTemplates(ctx, accountID(ctx), q)
	if err != nil {
		return nil, err
	}
	data := make([]gen.Template, len(page.Templates))
	for i, t := range page.Templates {
		data[i] = templateToAPI(t)
	}
	return gen.ListTemplates200JSONResponse{
		Body:    gen.TemplateList{Data: data, Length: len(data), HasMore: &page.HasMore},
		Headers: gen.ListTemplates200ResponseHeaders(headersFrom(ctx)),
	}, nil
}

func (h *handlers) CreateTemplate(ctx context.Context, r gen.CreateTemplateRequestObject) (gen.CreateTemplateResponseObject, error) {
	t := store.Template{AccountID: accountID(ctx), Name: r.Body.Name, Subject: r.Body.Subject, Content: r.Body.Content}
	var err error
	// 32 random bits make a collision rare; a few tries make it vanish.
	for range 5 {
		t.Slug = newSlug(t.Name)
		var created store.Template
		if created, err = h.store.CreateTemplate(ctx, t); err == nil {
			return gen.CreateTemplate201JSONResponse{
				Body: gen.TemplateCreated{Data: struct {
					Message  gen.TemplateCreatedDataMessage `json:"message"`
					Template gen.TemplateSlug               `json:"template"`
				}{Message: gen.TemplateCreatedDataMessageTemplateCreatedSuccessfully, Template: created.Slug}},
				Headers: gen.CreateTemplate201ResponseHeaders(headersFrom(ctx)),
			}, nil
		}
		if !errors.Is(err, store.ErrDuplicate) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("no free slug for %q: %w", t.Name, err)
}

func (h *handlers) GetTemplate(ctx context.Context, r gen.GetTemplateRequestObject) (gen.GetTemplateResponseObject, error) {
	t, err := h.store.GetTemplate(ctx, accountID(ctx), r.Slug)
	if err != nil {
		return nil, templateError(err, r.Slug)
	}
	return gen.GetTemplate200JSONResponse{
		Body:    gen.TemplateEnvelope{Data: templateToAPI(t)},
		Headers: gen.GetTemplate200ResponseHeaders(headersFrom(ctx)),
	}, nil
}

func (h *handlers) UpdateTemplate(ctx context.Context, r gen.UpdateTemplateRequestObject) (gen.UpdateTemplateResponseObject, error) {
	t, err := h.store.UpdateTemplate(ctx, accountID(ctx), r.Slug, store.TemplatePatch{
		Name: r.Body.Name, Subject: r.Body.Subject, Content: r.Body.Content,
	})
	if err != nil {
		return nil, templateError(err, r.Slug)
	}
	return gen.UpdateTemplate200JSONResponse{
		Body:    gen.TemplateEnvelope{Data: templateToAPI(t)},
		Headers: gen.UpdateTemplate200ResponseHeaders(headersFrom(ctx)),
	}, nil
}

func (h *handlers) DeleteTemplate(ctx context.Context, r gen.DeleteTemplateRequestObject) (gen.DeleteTemplateResponseObject, error) {
	if err := h.store.DeleteTemplate(ctx, accountID(ctx), r.Slug); err != nil {
		return nil, templateError(err, r.Slug)
	}
	return gen.DeleteTemplate204Response{Headers: gen.DeleteTemplate204ResponseHeaders(headersFrom(ctx))}, nil
}

func templateError(err error, slug string) error {
	if errors.Is(err, store.ErrNotFound) {
		return apierror.NotFound("No template with slug '%s'", slug)
	}
	return err
}

func templateToAPI(t store.Template) gen.Template {
	return gen.Template{
		Slug: t.Slug, Name: t.Name, Subject: t.Subject, Content: t.Content,
		CreatedAt: t.CreatedAt.UTC(), UpdatedAt: t.UpdatedAt.UTC(),
	}
}

// maxSlugBase is how much of the name a slug keeps.
const maxSlugBase = 64

// newSlug is the name slugified and 8 random hex digits, as the page's
// "from-api-1612d101": lower-case a-z and 0-9, every other run one "-".
func newSlug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if ('a' <= r && r <= 'z') || ('0' <= r && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		} else {
			dash = true
		}
	}
	base := strings.TrimRight(b.String()[:min(b.Len(), maxSlugBase)], "-")
	if base == "" {
		base = "template"
	}
	var suffix [4]byte
	rand.Read(suffix[:])
	return base + "-" + hex.EncodeToString(suffix[:])
}
