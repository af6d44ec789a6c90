package server

import (
	"context"
	"errors"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/gen"
	"github.com/axiomkit/axiom/internal/genserver"
)

func (h *handlers) ListLeads(ctx context.Context, r genserver.ListLeadsRequestObject) (genserver.ListLeadsResponseObject, error) {
	q := query(r.Params.Page, r.Params.Limit, (*string)(r.Params.Sort), (*string)(r.Params.Order))
	set(&q.Search, r.Params.Search)
	page, err := h.leads.ListLeads(ctx, accountID(ctx), q)
	if err != nil {
		return nil, err
	}
	data := make([]gen.Lead, len(page.Items))
	for i, l := range page.Items {
		data[i] = leadToAPI(l)
	}
	return leadListResponse{Body: gen.LeadList{Data: data, Length: len(data), HasMore: &page.HasMore}}, nil
}

func (h *handlers) CreateLead(ctx context.Context, r genserver.CreateLeadRequestObject) (genserver.CreateLeadResponseObject, error) {
	l := axiom.NewLead(accountID(ctx), leadFromAPI(*r.Body), h.now())
	if err := h.leads.CreateLead(ctx, l); err != nil {
		return nil, err
	}
	return leadCreatedResponse{Body: gen.LeadEnvelope{Data: leadToAPI(l)}}, nil
}

func (h *handlers) GetLead(ctx context.Context, r genserver.GetLeadRequestObject) (genserver.GetLeadResponseObject, error) {
	l, err := h.leads.GetLead(ctx, accountID(ctx), r.ID)
	if err != nil {
		return nil, err
	}
	return genserver.GetLead200JSONResponse{Body: gen.LeadEnvelope{Data: leadToAPI(l)}}, nil
}

func (h *handlers) UpdateLead(ctx context.Context, r genserver.UpdateLeadRequestObject) (genserver.UpdateLeadResponseObject, error) {
	b := r.Body
	l, err := h.leads.UpdateLead(ctx, accountID(ctx), r.ID, axiom.LeadPatch{
		Name: b.Name, Email: b.Email, Phone: b.Phone, Company: b.Company,
		Type: (*string)(b.Type), Status: (*string)(b.Status), Source: b.Source,
		Tags: b.Tags, Notes: b.Notes, CustomFields: (*map[string]string)(b.CustomFields),
	}, h.now())
	if err != nil {
		return nil, err
	}
	return genserver.UpdateLead200JSONResponse{Body: gen.LeadEnvelope{Data: leadToAPI(l)}}, nil
}

func (h *handlers) DeleteLead(ctx context.Context, r genserver.DeleteLeadRequestObject) (genserver.DeleteLeadResponseObject, error) {
	if err := h.leads.DeleteLead(ctx, accountID(ctx), r.ID); err != nil {
		return nil, err
	}
	return genserver.DeleteLead204Response{}, nil
}

// ExportLead answers everything the server holds about one lead: the
// lead, its listings, its messages as getCampaignMessage shows them with
// their events, and its suppression entry.
func (h *handlers) ExportLead(ctx context.Context, r genserver.ExportLeadRequestObject) (genserver.ExportLeadResponseObject, error) {
	account := accountID(ctx)
	l, err := h.leads.GetLead(ctx, account, r.ID)
	if err != nil {
		return nil, err
	}
	// Whole seconds: a HEAD and its GET answer bodies of the same length.
	out := gen.LeadExport{Lead: leadToAPI(l), Properties: []gen.LeadProperty{}, Messages: []gen.LeadExportMessage{}, ExportedAt: h.now().UTC().Truncate(time.Second)}
	for page := 1; ; page++ {
		p, err := h.properties.LeadProperties(ctx, account, l.ID, "", axiom.Query{Page: page, Limit: 100})
		if err != nil {
			return nil, err
		}
		for _, lp := range p.Items {
			out.Properties = append(out.Properties, gen.LeadProperty{Property: propertyToAPI(lp.Item), Relation: gen.PropertyRelation(lp.Link.Relation),
				LinkedAt: lp.Link.CreatedAt.UTC(), UpdatedAt: lp.Link.UpdatedAt.UTC()})
		}
		if !p.HasMore {
			break
		}
	}
	activity, err := h.campaigns.LeadActivity(ctx, account, l.ID)
	if err != nil {
		return nil, err
	}
	for _, a := range activity {
		m := messageToAPI(a.Message)
		m.HTML, m.Text = &a.Message.HTML, &a.Message.Text
		events := make([]gen.LeadExportEvent, len(a.Events))
		for i, e := range a.Events {
			events[i] = gen.LeadExportEvent{Kind: gen.LeadExportEventKind(e.Kind), At: e.At.UTC()}
			if e.URL != "" {
				events[i].URL = &e.URL
			}
		}
		out.Messages = append(out.Messages, gen.LeadExportMessage{CampaignID: a.Message.CampaignID, Message: m, Events: events})
	}
	switch sup, err := h.campaigns.Suppression(ctx, account, l.Email); {
	case err == nil:
		entry := suppressionToAPI(sup)
		out.Suppression = gen.LeadExportSuppression{Suppressed: true, Entry: &entry}
	case !errors.Is(err, axiom.ErrNotFound):
		return nil, err
	}
	return genserver.ExportLead200JSONResponse{Body: gen.LeadExportEnvelope{Data: out}}, nil
}

func leadFromAPI(b gen.LeadCreate) axiom.Lead {
	l := axiom.Lead{Name: b.Name, Email: b.Email}
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

func leadToAPI(l axiom.Lead) gen.Lead {
	l = l.Normalized()
	return gen.Lead{
		ID:           l.ID,
		Name:         l.Name,
		Email:        l.Email,
		Phone:        l.Phone,
		Company:      l.Company,
		Type:         gen.LeadType(l.Type),
		Status:       gen.LeadStatus(l.Status),
		Source:       l.Source,
		Tags:         l.Tags,
		Notes:        l.Notes,
		CustomFields: gen.CustomFields(l.CustomFields),
		CreatedAt:    l.CreatedAt.UTC(),
		UpdatedAt:    l.UpdatedAt.UTC(),
	}
}
