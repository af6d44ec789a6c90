package axiom

import (
	"strings"
	"time"
)

// The kinds, statuses and lead relations of a listing, as the spec lists them.
var (
	PropertyTypes     = []string{"house", "apartment", "condo", "land", "office", "retail", "industrial", "other"}
	PropertyStatuses  = []string{"available", "under_offer", "sold", "rented", "off_market"}
	PropertyRelations = []string{"interested", "viewing", "offer", "owner"}
)

// PropertyStatusDefault is the status of a new listing that names none.
const PropertyStatusDefault = "available"

// Address is a postal address; Country is an ISO 3166-1 alpha-2 code.
type Address struct {
	Line1, Line2, City, Region, PostalCode, Country string
}

// Coordinates are a point in WGS 84 degrees.
type Coordinates struct {
	Latitude, Longitude float64
}

// FloorArea is an area and its unit, "sqm" or "sqft".
type FloorArea struct {
	Value float64
	Unit  string
}

// Property is a real-estate listing of an account. Tags and custom fields
// are never nil once Normalized; Coordinates and FloorArea are nil when
// unknown.
type Property struct {
	ID           string
	AccountID    string
	Title        string
	Description  string
	Type         string // PropertyTypes
	Status       string // PropertyStatuses
	Address      Address
	Coordinates  *Coordinates
	Price        Money
	Bedrooms     int
	Bathrooms    float64 // in halves: 1.5 is a full and a half bathroom
	FloorArea    *FloorArea
	Tags         []string
	CustomFields map[string]string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// NewProperty returns p as it is created now in account accountID: a new
// id, its times, the default status where p has none, every field set.
func NewProperty(accountID string, p Property, now time.Time) Property {
	now = StoreTime(now)
	p.ID, p.AccountID, p.CreatedAt, p.UpdatedAt = NewID(PrefixProperty, now), accountID, now, now
	if p.Status == "" {
		p.Status = PropertyStatusDefault
	}
	return p.Normalized()
}

// Normalized returns p with nil tags and custom fields made empty.
func (p Property) Normalized() Property {
	if p.Tags == nil {
		p.Tags = []string{}
	}
	if p.CustomFields == nil {
		p.CustomFields = map[string]string{}
	}
	return p
}

// PropertyPatch lists the fields of a listing to change; nil fields are kept.
type PropertyPatch struct {
	Title, Description, Type, Status *string
	Address                          *Address
	Coordinates                      *Coordinates
	Price                            *Money
	Bedrooms                         *int
	Bathrooms                        *float64
	FloorArea                        *FloorArea
	Tags                             *[]string
	CustomFields                     *map[string]string
}

// Apply returns p with the fields pp sets, normalized and stamped updated at now.
func (pp PropertyPatch) Apply(p Property, now time.Time) Property {
	set(&p.Title, pp.Title)
	set(&p.Description, pp.Description)
	set(&p.Type, pp.Type)
	set(&p.Status, pp.Status)
	set(&p.Address, pp.Address)
	set(&p.Price, pp.Price)
	set(&p.Bedrooms, pp.Bedrooms)
	set(&p.Bathrooms, pp.Bathrooms)
	set(&p.Tags, pp.Tags)
	set(&p.CustomFields, pp.CustomFields)
	if pp.Coordinates != nil {
		c := *pp.Coordinates
		p.Coordinates = &c
	}
	if pp.FloorArea != nil {
		a := *pp.FloorArea
		p.FloorArea = &a
	}
	p.UpdatedAt = StoreTime(now)
	return p.Normalized()
}

// set copies *src into *dst when src is not nil.
func set[T any](dst *T, src *T) {
	if src != nil {
		*dst = *src
	}
}

// SearchText is the searchable words of p: those of its title, its
// address (lines, city, region, postal code) and its description,
// space-separated, split as a search query is (SearchWords).
func (p Property) SearchText() string {
	var words []string
	for _, f := range []string{p.Title, p.Address.Line1, p.Address.Line2, p.Address.City, p.Address.Region,
		p.Address.PostalCode, p.Description} {
		words = append(words, SearchWords(f)...)
	}
	return strings.Join(words, " ")
}

// CityKey is the form of a city's name that filters and groups compare:
// lower-cased, so that "Lisbon" and "LISBON" are one city.
func CityKey(city string) string { return strings.ToLower(strings.TrimSpace(city)) }

// PropertyFilter narrows a list of listings; zero fields do not narrow it.
type PropertyFilter struct {
	Status, Type string
	Currency     string // ISO 4217
	City         string // compared by CityKey
	// MinPrice and MaxPrice bound Money.Value, the amount in ten-thousandths.
	MinPrice, MaxPrice *int64
	MinBedrooms        *int
}

// PropertyNotFound is the error of a listing id the account does not have.
func PropertyNotFound(id string) *Error {
	return Errorf(CodeNotFound, "No property with id '%s'", id)
}

// AudiencePropertyNotFound is the error of a campaign audience naming a
// listing the account does not have.
func AudiencePropertyNotFound(id string) *Error {
	return Errorf(CodePropertyNotFound, "No property with id '%s' in this account", id)
}

// PropertyLink is the relation of a lead to a listing of the same account:
// one per lead and listing.
type PropertyLink struct {
	AccountID  string
	PropertyID string
	LeadID     string
	Relation   string // PropertyRelations
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// LinkNotFound is the error of a lead that is not linked to a listing.
func LinkNotFound(propertyID, leadID string) *Error {
	return Errorf(CodeNotFound, "Lead '%s' is not linked to property '%s'", leadID, propertyID)
}

// Linked is a lead of a listing, or a listing of a lead, and their link.
type Linked[T Lead | Property] struct {
	Item T
	Link PropertyLink
}
