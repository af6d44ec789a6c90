package server

import (
	"context"
	"time"

	"github.com/axiomkit/axiom"
	"github.com/axiomkit/axiom/gen"
	"github.com/axiomkit/axiom/internal/genserver"
)

// PropertyStore keeps the listings of every account and their links to leads.
type PropertyStore interface {
	CreateProperty(ctx context.Context, p axiom.Property) error
	GetProperty(ctx context.Context, accountID, id string) (axiom.Property, error)
	UpdateProperty(ctx context.Context, accountID, id string, p axiom.PropertyPatch, now time.Time) (axiom.Property, error)
	DeleteProperty(ctx context.Context, accountID, id string) error
	ListProperties(ctx context.Context, accountID string, q axiom.Query, f axiom.PropertyFilter) (axiom.Page[axiom.Property], error)
	LinkLead(ctx context.Context, accountID, propertyID, leadID, relation string, now time.Time) (axiom.PropertyLink, bool, error)
	UnlinkLead(ctx context.Context, accountID, propertyID, leadID string) error
	PropertyLeads(ctx context.Context, accountID, propertyID, relation string, q axiom.Query) (axiom.Page[axiom.Linked[axiom.Lead]], error)
	LeadProperties(ctx context.Context, accountID, leadID, relation string, q axiom.Query) (axiom.Page[axiom.Linked[axiom.Property]], error)
}

func (h *handlers) ListProperties(ctx context.Context, r genserver.ListPropertiesRequestObject) (genserver.ListPropertiesResponseObject, error) {
	p := r.Params
	q := query(p.Page, p.Limit, (*string)(p.Sort), (*string)(p.Order))
	set(&q.Search, p.Search)
	var f axiom.PropertyFilter
	set(&f.Status, (*string)(p.Status))
	set(&f.Type, (*string)(p.Type))
	set(&f.City, p.City)
	f.MinBedrooms = p.MinBedrooms
	if p.Currency != nil {
		if _, ok := axiom.CurrencyDigits(*p.Currency); !ok {
			return nil, axiom.Errorf(axiom.CodeInvalidParameter, "The parameter 'currency' is invalid: '%s' is not an active ISO 4217 currency code", *p.Currency)
		}
		f.Currency = *p.Currency
	}
	for _, b := range []struct {
		name string
		in   *string
		out  **int64
	}{{"min_price", p.MinPrice, &f.MinPrice}, {"max_price", p.MaxPrice, &f.MaxPrice}} {
		if b.in != nil {
			v, err := axiom.ParseAmount(b.name, *b.in)
			if err != nil {
				return nil, err
			}
			*b.out = &v
		}
	}
	page, err := h.properties.ListProperties(ctx, accountID(ctx), q, f)
	if err != nil {
		return nil, err
	}
	data := make([]gen.Property, len(page.Items))
	for i, p := range page.Items {
		data[i] = propertyToAPI(p)
	}
	return genserver.ListProperties200JSONResponse{Body: gen.PropertyList{Data: data, Length: len(data), HasMore: &page.HasMore}}, nil
}

func (h *handlers) CreateProperty(ctx context.Context, r genserver.CreatePropertyRequestObject) (genserver.CreatePropertyResponseObject, error) {
	b := r.Body
	price, err := moneyFromAPI("price", b.Price)
	if err != nil {
		return nil, err
	}
	p := axiom.Property{Title: b.Title, Type: string(b.Type), Address: addressFromAPI(b.Address), Price: price,
		Coordinates: coordinatesFromAPI(b.Coordinates), FloorArea: floorAreaFromAPI(b.FloorArea)}
	set(&p.Description, b.Description)
	set(&p.Status, (*string)(b.Status))
	set(&p.Bedrooms, b.Bedrooms)
	set(&p.Bathrooms, b.Bathrooms)
	set(&p.Tags, b.Tags)
	set(&p.CustomFields, (*map[string]string)(b.CustomFields))
	p = axiom.NewProperty(accountID(ctx), p, h.now())
	if err := h.properties.CreateProperty(ctx, p); err != nil {
		return nil, err
	}
	return genserver.CreateProperty201JSONResponse{Body: gen.PropertyEnvelope{Data: propertyToAPI(p)}}, nil
}

func (h *handlers) GetProperty(ctx context.Context, r genserver.GetPropertyRequestObject) (genserver.GetPropertyResponseObject, error) {
	p, err := h.properties.GetProperty(ctx, accountID(ctx), r.ID)
	if err != nil {
		return nil, err
	}
	return genserver.GetProperty200JSONResponse{Body: gen.PropertyEnvelope{Data: propertyToAPI(p)}}, nil
}

func (h *handlers) UpdateProperty(ctx context.Context, r genserver.UpdatePropertyRequestObject) (genserver.UpdatePropertyResponseObject, error) {
	b := r.Body
	pp := axiom.PropertyPatch{Title: b.Title, Description: b.Description, Type: (*string)(b.Type), Status: (*string)(b.Status),
		Coordinates: coordinatesFromAPI(b.Coordinates), FloorArea: floorAreaFromAPI(b.FloorArea), Bedrooms: b.Bedrooms,
		Bathrooms: b.Bathrooms, Tags: b.Tags, CustomFields: (*map[string]string)(b.CustomFields)}
	if b.Address != nil {
		a := addressFromAPI(*b.Address)
		pp.Address = &a
	}
	if b.Price != nil {
		m, err := moneyFromAPI("price", *b.Price)
		if err != nil {
			return nil, err
		}
		pp.Price = &m
	}
	p, err := h.properties.UpdateProperty(ctx, accountID(ctx), r.ID, pp, h.now())
	if err != nil {
		return nil, err
	}
	return genserver.UpdateProperty200JSONResponse{Body: gen.PropertyEnvelope{Data: propertyToAPI(p)}}, nil
}

func (h *handlers) DeleteProperty(ctx context.Context, r genserver.DeletePropertyRequestObject) (genserver.DeletePropertyResponseObject, error) {
	if err := h.properties.DeleteProperty(ctx, accountID(ctx), r.ID); err != nil {
		return nil, err
	}
	return genserver.DeleteProperty204Response{}, nil
}

func (h *handlers) ListPropertyLeads(ctx context.Context, r genserver.ListPropertyLeadsRequestObject) (genserver.ListPropertyLeadsResponseObject, error) {
	page, err := h.properties.PropertyLeads(ctx, accountID(ctx), r.ID, relation(r.Params.Relation), query(r.Params.Page, r.Params.Limit, nil, nil))
	if err != nil {
		return nil, err
	}
	data := make([]gen.PropertyLead, len(page.Items))
	for i, ll := range page.Items {
		data[i] = gen.PropertyLead{Lead: leadToAPI(ll.Item), Relation: gen.PropertyRelation(ll.Link.Relation),
			LinkedAt: ll.Link.CreatedAt.UTC(), UpdatedAt: ll.Link.UpdatedAt.UTC()}
	}
	return genserver.ListPropertyLeads200JSONResponse{Body: gen.PropertyLeadList{Data: data, Length: len(data), HasMore: &page.HasMore}}, nil
}

func (h *handlers) ListLeadProperties(ctx context.Context, r genserver.ListLeadPropertiesRequestObject) (genserver.ListLeadPropertiesResponseObject, error) {
	page, err := h.properties.LeadProperties(ctx, accountID(ctx), r.ID, relation(r.Params.Relation), query(r.Params.Page, r.Params.Limit, nil, nil))
	if err != nil {
		return nil, err
	}
	data := make([]gen.LeadProperty, len(page.Items))
	for i, lp := range page.Items {
		data[i] = gen.LeadProperty{Property: propertyToAPI(lp.Item), Relation: gen.PropertyRelation(lp.Link.Relation),
			LinkedAt: lp.Link.CreatedAt.UTC(), UpdatedAt: lp.Link.UpdatedAt.UTC()}
	}
	return genserver.ListLeadProperties200JSONResponse{Body: gen.LeadPropertyList{Data: data, Length: len(data), HasMore: &page.HasMore}}, nil
}

func (h *handlers) LinkPropertyLead(ctx context.Context, r genserver.LinkPropertyLeadRequestObject) (genserver.LinkPropertyLeadResponseObject, error) {
	k, created, err := h.properties.LinkLead(ctx, accountID(ctx), r.ID, r.LeadID, string(r.Body.Relation), h.now())
	if err != nil {
		return nil, err
	}
	body := gen.PropertyLinkEnvelope{Data: gen.PropertyLink{PropertyID: k.PropertyID, LeadID: k.LeadID,
		Relation: gen.PropertyRelation(k.Relation), CreatedAt: k.CreatedAt.UTC(), UpdatedAt: k.UpdatedAt.UTC()}}
	if created {
		return genserver.LinkPropertyLead201JSONResponse{Body: body}, nil
	}
	return genserver.LinkPropertyLead200JSONResponse{Body: body}, nil
}

func (h *handlers) UnlinkPropertyLead(ctx context.Context, r genserver.UnlinkPropertyLeadRequestObject) (genserver.UnlinkPropertyLeadResponseObject, error) {
	if err := h.properties.UnlinkLead(ctx, accountID(ctx), r.ID, r.LeadID); err != nil {
		return nil, err
	}
	return genserver.UnlinkPropertyLead204Response{}, nil
}

func relation(r *gen.PropertyRelation) string {
	if r == nil {
		return ""
	}
	return string(*r)
}

func moneyFromAPI(param string, m gen.Money) (axiom.Money, error) {
	return axiom.ParseMoney(param, m.Amount, m.Currency)
}

func moneyToAPI(m axiom.Money) gen.Money { return gen.Money{Amount: m.Amount(), Currency: m.Currency} }

func addressFromAPI(a gen.Address) axiom.Address {
	out := axiom.Address{Line1: a.Line1, City: a.City, Country: a.Country}
	set(&out.Line2, a.Line2)
	set(&out.Region, a.Region)
	set(&out.PostalCode, a.PostalCode)
	return out
}

func coordinatesFromAPI(c *gen.Coordinates) *axiom.Coordinates {
	if c == nil {
		return nil
	}
	return &axiom.Coordinates{Latitude: c.Latitude, Longitude: c.Longitude}
}

func floorAreaFromAPI(f *gen.FloorArea) *axiom.FloorArea {
	if f == nil {
		return nil
	}
	return &axiom.FloorArea{Value: f.Value, Unit: string(f.Unit)}
}

func propertyToAPI(p axiom.Property) gen.Property {
	p = p.Normalized()
	a := p.Address
	out := gen.Property{
		ID: p.ID, Title: p.Title, Description: p.Description, Type: gen.PropertyType(p.Type), Status: gen.PropertyStatus(p.Status),
		Address: gen.Address{Line1: a.Line1, Line2: &a.Line2, City: a.City, Region: &a.Region, PostalCode: &a.PostalCode, Country: a.Country},
		Price:   moneyToAPI(p.Price), Bedrooms: p.Bedrooms, Bathrooms: p.Bathrooms, Tags: p.Tags,
		CustomFields: gen.CustomFields(p.CustomFields), CreatedAt: p.CreatedAt.UTC(), UpdatedAt: p.UpdatedAt.UTC(),
	}
	if c := p.Coordinates; c != nil {
		out.Coordinates = &gen.Coordinates{Latitude: c.Latitude, Longitude: c.Longitude}
	}
	if f := p.FloorArea; f != nil {
		out.FloorArea = &gen.FloorArea{Value: f.Value, Unit: gen.FloorAreaUnit(f.Unit)}
	}
	return out
}
