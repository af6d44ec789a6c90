package server

import (
	"context"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/internal/analytics"
	"github.com/axiomkit/axiom/internal/campaign"
	"github.com/axiomkit/axiom/internal/genserver"
)

// LeadStore keeps the leads of every account.
type LeadStore interface {
	CreateLead(ctx context.Context, l axiom.Lead) error
	GetLead(ctx context.Context, accountID, id string) (axiom.Lead, error)
	UpdateLead(ctx context.Context, accountID, id string, p axiom.LeadPatch, now time.Time) (axiom.Lead, error)
	DeleteLead(ctx context.Context, accountID, id string) error
	ListLeads(ctx context.Context, accountID string, q axiom.Query) (axiom.Page[axiom.Lead], error)
}

// TemplateStore keeps the templates of every account.
type TemplateStore interface {
	CreateTemplate(ctx context.Context, t axiom.Template) error
	GetTemplate(ctx context.Context, accountID, slug string) (axiom.Template, error)
	UpdateTemplate(ctx context.Context, accountID, slug string, p axiom.TemplatePatch, now time.Time) (axiom.Template, error)
	DeleteTemplate(ctx context.Context, accountID, slug string, now time.Time) error
	ListTemplates(ctx context.Context, accountID string, q axiom.Query) (axiom.Page[axiom.Template], error)
}

// handlers implements the generated strict server interface over the
// domain. Every method runs after the pipeline admitted and validated its
// request, and returns the domain's errors as they are: the pipeline
// renders them, and sets the rate-limit headers of every answer.
type handlers struct {
	leads      LeadStore
	templates  TemplateStore
	properties PropertyStore
	campaigns  *campaign.Service
	analytics  *analytics.Service
	now        func() time.Time
}

var _ genserver.StrictServerInterface = (*handlers)(nil)

// query applies the spec's defaults to a list's paging parameters; the
// validation stage has already checked their ranges and values.
func query(page, limit *int, sort, order *string) axiom.Query {
	q := axiom.DefaultQuery()
	set(&q.Page, page)
	set(&q.Limit, limit)
	set(&q.Sort, sort)
	if order != nil {
		q.Desc = *order == "desc"
	}
	return q
}

// set copies *p into *dst when p is not nil.
func set[T any](dst *T, p *T) {
	if p != nil {
		*dst = *p
	}
}

// utcPtr is *t in UTC, or nil.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
