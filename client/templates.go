package client

import (
	"context"
	"iter"
	"net/http"

	"github.com/axiomkit/axiom/gen"
)

// TemplateService is the account's email templates.
type TemplateService struct{ c *Client }

// List returns one page of templates; params may be nil (page 1, 20
// templates, newest first).
func (s *TemplateService) List(ctx context.Context, params *gen.ListTemplatesParams, editors ...gen.RequestEditorFn) (*TemplatePage, error) {
	list, meta, err := call(ctx, s.c,
		func() (*http.Response, error) { return s.c.raw.ListTemplates(ctx, params, editors...) },
		decode(gen.ParseListTemplatesResponse, func(p *gen.ListTemplatesResponse) *gen.TemplateList { return p.JSON200 }))
	if err != nil {
		return nil, err
	}
	return &TemplatePage{Templates: list.Data, HasMore: isTrue(list.HasMore), Response: meta, hasMore: list.HasMore}, nil
}

// All iterates over every template, as LeadService.All does over leads.
func (s *TemplateService) All(ctx context.Context, params *gen.ListTemplatesParams, editors ...gen.RequestEditorFn) iter.Seq2[gen.Template, error] {
	var p gen.ListTemplatesParams
	if params != nil {
		p = *params
	}
	first, limit := pageBounds(p.Page, p.Limit)
	return paginate(first, limit, func(page int) ([]gen.Template, *bool, error) {
		q := p
		q.Page, q.Limit = &page, &limit
		res, err := s.List(ctx, &q, editors...)
		if err != nil {
			return nil, nil, err
		}
		return res.Templates, res.hasMore, nil
	}, func(t gen.Template) string { return t.Slug })
}

// Create adds a template and returns its slug. Like LeadService.Create it
// carries an Idempotency-Key (random, or IdempotencyKey(k)).
func (s *TemplateService) Create(ctx context.Context, template gen.TemplateCreate, editors ...gen.RequestEditorFn) (*TemplateCreateResult, error) {
	created, meta, err := call(ctx, s.c,
		func() (*http.Response, error) { return s.c.raw.CreateTemplate(ctx, nil, template, editors...) },
		decode(gen.ParseCreateTemplateResponse, func(p *gen.CreateTemplateResponse) *gen.TemplateCreated { return p.JSON201 }))
	if err != nil {
		return nil, err
	}
	return &TemplateCreateResult{Slug: created.Data.Template, Response: meta}, nil
}

// Get returns the template with slug.
func (s *TemplateService) Get(ctx context.Context, slug gen.TemplateSlug, editors ...gen.RequestEditorFn) (*TemplateResult, error) {
	env, meta, err := call(ctx, s.c,
		func() (*http.Response, error) { return s.c.raw.GetTemplate(ctx, slug, editors...) },
		decode(gen.ParseGetTemplateResponse, func(p *gen.GetTemplateResponse) *gen.TemplateEnvelope { return p.JSON200 }))
	if err != nil {
		return nil, err
	}
	return &TemplateResult{Template: env.Data, Response: meta}, nil
}

// Update changes the fields of the template with slug that update sets.
func (s *TemplateService) Update(ctx context.Context, slug gen.TemplateSlug, update gen.TemplateUpdate, editors ...gen.RequestEditorFn) (*TemplateResult, error) {
	env, meta, err := call(ctx, s.c,
		func() (*http.Response, error) { return s.c.raw.UpdateTemplate(ctx, slug, update, editors...) },
		decode(gen.ParseUpdateTemplateResponse, func(p *gen.UpdateTemplateResponse) *gen.TemplateEnvelope { return p.JSON200 }))
	if err != nil {
		return nil, err
	}
	return &TemplateResult{Template: env.Data, Response: meta}, nil
}

// Delete deletes the template with slug.
func (s *TemplateService) Delete(ctx context.Context, slug gen.TemplateSlug, editors ...gen.RequestEditorFn) (*Response, error) {
	_, meta, err := call(ctx, s.c,
		func() (*http.Response, error) { return s.c.raw.DeleteTemplate(ctx, slug, editors...) },
		noBody)
	if err != nil {
		return nil, err
	}
	return &meta, nil
}
