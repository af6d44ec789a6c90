package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/gen"
	"github.com/axiomkit/axiom/internal/genserver"
)

func (h *handlers) ListTemplates(ctx context.Context, r genserver.ListTemplatesRequestObject) (genserver.ListTemplatesResponseObject, error) {
	q := query(r.Params.Page, r.Params.Limit, (*string)(r.Params.Sort), (*string)(r.Params.Order))
	page, err := h.templates.ListTemplates(ctx, accountID(ctx), q)
	if err != nil {
		return nil, err
	}
	data := make([]gen.Template, len(page.Items))
	for i, t := range page.Items {
		data[i] = templateToAPI(t)
	}
	return genserver.ListTemplates200JSONResponse{Body: gen.TemplateList{Data: data, Length: len(data), HasMore: &page.HasMore}}, nil
}

func (h *handlers) CreateTemplate(ctx context.Context, r genserver.CreateTemplateRequestObject) (genserver.CreateTemplateResponseObject, error) {
	in := axiom.Template{Name: r.Body.Name, Subject: r.Body.Subject, Content: r.Body.Content}
	var err error
	// A slug is never reused; 32 random bits make a clash rare, a few tries make it vanish.
	for range 5 {
		t := axiom.NewTemplate(accountID(ctx), in, h.now())
		if err = h.templates.CreateTemplate(ctx, t); err == nil {
			return genserver.CreateTemplate201JSONResponse{
				Body: gen.TemplateCreated{Data: struct {
					Message  gen.TemplateCreatedDataMessage `json:"message"`
					Template gen.TemplateSlug               `json:"template"`
				}{Message: gen.TemplateCreatedDataMessageTemplateCreatedSuccessfully, Template: t.Slug}},
			}, nil
		}
		if !errors.Is(err, axiom.ErrDuplicate) {
			return nil, err
		}
	}
	return nil, axiom.Internal(fmt.Errorf("no free slug for %q: %w", in.Name, err))
}

func (h *handlers) GetTemplate(ctx context.Context, r genserver.GetTemplateRequestObject) (genserver.GetTemplateResponseObject, error) {
	t, err := h.templates.GetTemplate(ctx, accountID(ctx), r.Slug)
	if err != nil {
		return nil, err
	}
	return genserver.GetTemplate200JSONResponse{Body: gen.TemplateEnvelope{Data: templateToAPI(t)}}, nil
}

func (h *handlers) UpdateTemplate(ctx context.Context, r genserver.UpdateTemplateRequestObject) (genserver.UpdateTemplateResponseObject, error) {
	t, err := h.templates.UpdateTemplate(ctx, accountID(ctx), r.Slug, axiom.TemplatePatch{
		Name: r.Body.Name, Subject: r.Body.Subject, Content: r.Body.Content,
	}, h.now())
	if err != nil {
		return nil, err
	}
	return genserver.UpdateTemplate200JSONResponse{Body: gen.TemplateEnvelope{Data: templateToAPI(t)}}, nil
}

func (h *handlers) DeleteTemplate(ctx context.Context, r genserver.DeleteTemplateRequestObject) (genserver.DeleteTemplateResponseObject, error) {
	if err := h.templates.DeleteTemplate(ctx, accountID(ctx), r.Slug, h.now()); err != nil {
		return nil, err
	}
	return genserver.DeleteTemplate204Response{}, nil
}

func templateToAPI(t axiom.Template) gen.Template {
	return gen.Template{
		Slug: t.Slug, Name: t.Name, Subject: t.Subject, Content: t.Content,
		CreatedAt: t.CreatedAt.UTC(), UpdatedAt: t.UpdatedAt.UTC(),
	}
}
