package server

import (
	"context"
	"errors"

	"github.com/axiomkit/axiom/gen"
	"github.com/axiomkit/axiom/server/apierror"
	"github.com/axiomkit/axiom/server/store"
)

func (h *handlers) ListLeads(ctx context.Context, r gen.ListLeadsRequestObject) (gen.ListLeadsResponseObject, error) {
	q := query(r.Params.Page, r.Params.Limit, (*string)(r.Params.Sort), (*string)(r.Params.Order))
	if r.Params.Search != nil {
		q.Search = *r.Params.Search
	}
	page, err := h.store.ListLeads(ctx, accountID(ctx), q)
	if err != nil {
		return nil, err
	}
	data := make([]gen.Lead, len(page.Leads))
	for i, l := range page.Leads {
		data[i] = leadToAPI(l)
	}
	return gen.ListLeads200JSONResponse{
		Body:    gen.LeadList{Data: data, Length: len(data), HasMore: &page.HasMore},
		Headers: gen.ListLeads200ResponseHeaders(headersFrom(ctx)),
	}, nil
}

func (h *handlers) CreateLead(ctx context.Context, r gen.CreateLeadRequestObject) (gen.CreateLeadResponseObject, error) {
	l, err := h.store.CreateLead(ctx, leadFromAPI(accountID(ctx), *r.Body))
	if errors.Is(err, store.ErrDuplicate) {
		return nil, apierror.Duplicate("A lead with email '%s' already exists", r.Body.Email)
	}
	if err != nil {
		return nil, err
	}
	return gen.CreateLead201JSONResponse{
		Body:    gen.LeadEnvelope{Data: leadToAPI(l)},
		Headers: gen.CreateLead201ResponseHeaders(headersFrom(ctx)),
	}, nil
}

func (h *handlers) GetLead(ctx context.Context, r gen.GetLeadRequestObject) (gen.GetLeadResponseObject, error) {
	l, err := h.store.GetLead(ctx, accountID(ctx), r.ID)
	if err != nil {
		return nil, leadError(err, r.ID, "")
	}
	return gen.GetLead200JSONResponse{
		Body:    gen.LeadEnvelope{Data: leadToAPI(l)},
		Headers: gen.GetLead200ResponseHeaders(headersFrom(ctx)),
	}, nil
}

func (h *handlers) UpdateLead(ctx context.Context, r gen.UpdateLeadRequestObject) (gen.UpdateLeadResponseObject, error) {
	b := r.Body
	l, err := h.store.UpdateLead(ctx, accountID(ctx), r.ID, store.LeadPatch{
		Name: b.Name, Email: b.Email, Phone: b.Phone, Company: b.Company,
		Type: (*string)(b.Type), Status: (*string)(b.Status), Source: b.Source,
		Tags: b.Tags, Notes: b.Notes, CustomFields: (*map[string]string)(b.CustomFields),
	})
	if err != nil {
		email := ""
		if b.Email != nil {
			email = *b.Email
		}
		return nil, leadError(err, r.ID, email)
	}
	return gen.UpdateLead200JSONResponse{
		Body:    gen.LeadEnvelope{Data: leadToAPI(l)},
		Headers: gen.UpdateLead200ResponseHeaders(headersFrom(ctx)),
	}, nil
}

func (h *handlers) DeleteLead(ctx context.Context, r gen.DeleteLeadRequestObject) (gen.DeleteLeadResponseObject, error) {
	if err := h.store.DeleteLead(ctx, accountID(ctx), r.ID); err != nil {
		return nil, leadError(err, r.ID, "")
	}
	return gen.DeleteLead204Response{Headers: gen.DeleteLead204ResponseHeaders(headersFrom(ctx))}, nil
}

// leadError names the lead in the store's not-found and duplicate errors.
func leadError(err error, id, email string) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return apierror.NotFound("No lead with id '%s'", id)
	case errors.Is(err, store.ErrDuplicate):
		return apierror.Duplicate("A lead with email '%s' already exists", email)
	}
	return err
}

func leadFromAPI(account string, b gen.LeadCreate) store.Lead {
	l := store.Lead{
		AccountID:    account,
		Name:         b.Name,
		Email:        b.Email,
		Type:         string(gen.LeadTypeLead),
		Status:       string(gen.LeadStatusActive),
		Tags:         []string{},
		Notes:        []string{},
		CustomFields: map[string]string{},
	}
	set(&l.Phone, b.Phone)
	set(&l.Company, b.Company)
	set(&l.Source, b.Source)
	set(&l.Type, (*string)(b.Type))
	set(&l.Status, (*string)(b.Status))
	set(&l.Tags, b.Tags)
	set(&l.Notes, b.Notes)
	set(&l.CustomFields, (*map[string]string)(b.CustomFields))
	return l
}

func leadToAPI(l store.Lead) gen.Lead {
	return gen.Lead{
		ID:           l.ID,
		Name:         l.Name,
		Email:        l.Email,
		Phone:        l.Phone,
		Company:      l.Company,
		Type:         gen.LeadType(l.Type),
		Status:       gen.LeadStatus(l.Status),
		Source:       l.Source,
		Tags:         nonNil(l.Tags),
		Notes:        nonNil(l.Notes),
		CustomFields: gen.CustomFields(nonNilMap(l.CustomFields)),
		CreatedAt:    l.CreatedAt.UTC(),
		UpdatedAt:    l.UpdatedAt.UTC(),
	}
}
