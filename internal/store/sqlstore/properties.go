package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/axiomkit/axiom"
)

// PropertyColumns are the columns scanProperty reads, in its order.
const PropertyColumns = `properties.id, properties.account_id, properties.title, properties.description, properties.type,
	properties.status, properties.line1, properties.line2, properties.city, properties.region, properties.postal_code,
	properties.country, properties.latitude, properties.longitude, properties.price_minor, properties.currency,
	properties.bedrooms, properties.bathrooms, properties.floor_area, properties.floor_area_unit, properties.tags,
	properties.custom_fields, properties.created_at, properties.updated_at`

const getPropertySQL = "SELECT " + PropertyColumns + " FROM properties WHERE id = $1 AND account_id = $2"

func scanProperty(row Scanner, extra ...any) (axiom.Property, error) {
	var v struct {
		p                axiom.Property
		lat, lng, area   sql.NullFloat64
		unit             sql.NullString
		tags, custom     string
		created, updated Time
	}
	p, a := &v.p, &v.p.Address
	dest := append([]any{&p.ID, &p.AccountID, &p.Title, &p.Description, &p.Type, &p.Status,
		&a.Line1, &a.Line2, &a.City, &a.Region, &a.PostalCode, &a.Country, &v.lat, &v.lng,
		&p.Price.Minor, &p.Price.Currency, &p.Bedrooms, &p.Bathrooms, &v.area, &v.unit,
		&v.tags, &v.custom, &v.created, &v.updated}, extra...)
	if err := row.Scan(dest...); err != nil {
		return axiom.Property{}, err
	}
	var err error
	if p.Tags, err = decodeStrings(v.tags); err != nil {
		return axiom.Property{}, fmt.Errorf("property %s tags: %w", p.ID, err)
	}
	if p.CustomFields, err = decodeStringMap(v.custom); err != nil {
		return axiom.Property{}, fmt.Errorf("property %s custom fields: %w", p.ID, err)
	}
	if v.lat.Valid && v.lng.Valid {
		p.Coordinates = &axiom.Coordinates{Latitude: v.lat.Float64, Longitude: v.lng.Float64}
	}
	if v.area.Valid && v.unit.Valid {
		p.FloorArea = &axiom.FloorArea{Value: v.area.Float64, Unit: v.unit.String}
	}
	p.CreatedAt, p.UpdatedAt = v.created.Time, v.updated.Time
	return p.Normalized(), nil
}

// propertySearchText is the search column of p: its words between spaces,
// so that `LIKE '% word%'` finds a word's prefix anywhere.
func propertySearchText(p axiom.Property) string { return " " + p.SearchText() + " " }

// propertyValues are the values of every column of p but seq, in the order
// of propertyInsertColumns.
func (s *Store) propertyValues(p axiom.Property) ([]any, error) {
	p = p.Normalized()
	tags, err := json.Marshal(p.Tags)
	if err != nil {
		return nil, err
	}
	custom, err := json.Marshal(p.CustomFields)
	if err != nil {
		return nil, err
	}
	var lat, lng, area, unit any
	if c := p.Coordinates; c != nil {
		lat, lng = c.Latitude, c.Longitude
	}
	if f := p.FloorArea; f != nil {
		area, unit = f.Value, f.Unit
	}
	a := p.Address
	return []any{p.ID, p.AccountID, p.Title, p.Description, p.Type, p.Status, a.Line1, a.Line2, a.City,
		axiom.CityKey(a.City), a.Region, a.PostalCode, a.Country, lat, lng, p.Price.Minor, p.Price.Currency,
		p.Price.Value(), p.Bedrooms, p.Bathrooms, area, unit, string(tags), string(custom), propertySearchText(p),
		s.arg(p.CreatedAt), s.arg(p.UpdatedAt)}, nil
}

const propertyInsertColumns = `id, account_id, title, description, type, status, line1, line2, city, city_key, region,
	postal_code, country, latitude, longitude, price_minor, currency, price_value, bedrooms, bathrooms, floor_area,
	floor_area_unit, tags, custom_fields, search_text, created_at, updated_at`

var (
	insertPropertySQL = "INSERT INTO properties (" + propertyInsertColumns + ") VALUES " + values(1, 27)
	// updatePropertySQL sets every column but id, account_id and
	// created_at, from propertyValues' values 2 to 24 and 26.
	updatePropertySQL = `UPDATE properties SET title = $1, description = $2, type = $3, status = $4, line1 = $5,
		line2 = $6, city = $7, city_key = $8, region = $9, postal_code = $10, country = $11, latitude = $12,
		longitude = $13, price_minor = $14, currency = $15, price_value = $16, bedrooms = $17, bathrooms = $18,
		floor_area = $19, floor_area_unit = $20, tags = $21, custom_fields = $22, search_text = $23, updated_at = $24
		WHERE id = $25 AND account_id = $26`
)

// CreateProperty stores p as it is.
func (s *Store) CreateProperty(ctx context.Context, p axiom.Property) error {
	args, err := s.propertyValues(p)
	if err == nil {
		err = s.write(ctx, false, func(c Conn) error {
			_, err := c.ExecContext(ctx, insertPropertySQL, args...)
			return err
		})
	}
	switch s.violation(err) {
	case Unique:
		err = axiom.Errorf(axiom.CodeDuplicateEntry, "A property with id '%s' already exists", p.ID)
	case ForeignKey:
		err = accountNotFound(p.AccountID)
	}
	return s.errorf(err, "create property")
}

// InsertProperty inserts p in q, the write pool of s or one of its
// transactions: for loading many listings in one transaction.
func InsertProperty(ctx context.Context, s *Store, q Querier, p axiom.Property) error {
	args, err := s.propertyValues(p)
	if err != nil {
		return err
	}
	_, err = WriteConn(s, q).ExecContext(ctx, insertPropertySQL, args...)
	return err
}

// GetProperty returns the listing id of accountID.
func (s *Store) GetProperty(ctx context.Context, accountID, id string) (axiom.Property, error) {
	p, err := scanProperty(s.read().QueryRowContext(ctx, getPropertySQL, id, accountID))
	if errors.Is(err, sql.ErrNoRows) {
		err = axiom.PropertyNotFound(id)
	}
	if err != nil {
		return axiom.Property{}, s.errorf(err, "get property %q", id)
	}
	return p, nil
}

// UpdateProperty applies pp to the listing id of accountID, the row locked
// from the read to the write.
func (s *Store) UpdateProperty(ctx context.Context, accountID, id string, pp axiom.PropertyPatch, now time.Time) (axiom.Property, error) {
	var p axiom.Property
	err := s.write(ctx, true, func(c Conn) error {
		var err error
		p, err = scanProperty(c.QueryRowContext(ctx, s.sql.lockProperty, id, accountID))
		if errors.Is(err, sql.ErrNoRows) {
			return axiom.PropertyNotFound(id)
		}
		if err != nil {
			return err
		}
		p = pp.Apply(p, now)
		args, err := s.propertyValues(p)
		if err != nil {
			return err
		}
		_, err = c.ExecContext(ctx, updatePropertySQL, append(args[2:25:25], args[26], id, accountID)...)
		return err
	})
	if err != nil {
		return axiom.Property{}, s.errorf(err, "update property %q", id)
	}
	return p, nil
}

// DeleteProperty deletes the listing id of accountID and, by cascade, its
// links to leads.
func (s *Store) DeleteProperty(ctx context.Context, accountID, id string) error {
	err := s.write(ctx, false, func(c Conn) error {
		n, err := affected(c.ExecContext(ctx, "DELETE FROM properties WHERE id = $1 AND account_id = $2", id, accountID))
		if err == nil && n == 0 {
			err = axiom.PropertyNotFound(id)
		}
		return err
	})
	return s.errorf(err, "delete property %q", id)
}

// ListProperties returns one page of the listings of accountID that pass f
// and match q.Search (every word begins a word of the listing's search
// text), in q's order, ties broken by id in the same direction.
func (s *Store) ListProperties(ctx context.Context, accountID string, q axiom.Query, f axiom.PropertyFilter) (axiom.Page[axiom.Property], error) {
	o, err := order(q, propertySorts)
	if err != nil {
		return axiom.Page[axiom.Property]{}, s.errorf(err, "list properties")
	}
	args := []any{accountID}
	var where strings.Builder
	where.WriteString("account_id = $1")
	cond := func(sql string, v any) {
		args = append(args, v)
		fmt.Fprintf(&where, " AND %s $%d", sql, len(args))
	}
	if f.Status != "" {
		cond("status =", f.Status)
	}
	if f.Type != "" {
		cond("type =", f.Type)
	}
	if f.Currency != "" {
		cond("currency =", f.Currency)
	}
	if f.City != "" {
		cond("city_key =", axiom.CityKey(f.City))
	}
	if f.MinPrice != nil {
		cond("price_value >=", *f.MinPrice)
	}
	if f.MaxPrice != nil {
		cond("price_value <=", *f.MaxPrice)
	}
	if f.MinBedrooms != nil {
		cond("bedrooms >=", *f.MinBedrooms)
	}
	for _, w := range axiom.SearchWords(q.Search) {
		cond("search_text LIKE", "% "+w+"%")
	}
	query := fmt.Sprintf("SELECT %s FROM properties WHERE %s%s LIMIT $%d OFFSET $%d",
		PropertyColumns, where.String(), o.By("id"), len(args)+1, len(args)+2)
	p, err := listPage(ctx, s, q, func(row Scanner) (axiom.Property, error) { return scanProperty(row) }, query, args...)
	return p, s.errorf(err, "list properties")
}

// linkColumns are the columns of a link scanLink reads, after those of its
// lead or listing.
const linkColumns = "property_leads.account_id, property_leads.property_id, property_leads.lead_id, property_leads.relation, property_leads.created_at, property_leads.updated_at"

func linkDest(k *axiom.PropertyLink, created, updated *Time) []any {
	return []any{&k.AccountID, &k.PropertyID, &k.LeadID, &k.Relation, created, updated}
}

// scanLink reads a row of linkColumns.
func scanLink(row Scanner) (axiom.PropertyLink, error) {
	var k axiom.PropertyLink
	var created, updated Time
	err := row.Scan(linkDest(&k, &created, &updated)...)
	k.CreatedAt, k.UpdatedAt = created.Time, updated.Time
	return k, err
}

const insertLinkSQL = `INSERT INTO property_leads (account_id, property_id, lead_id, relation, created_at, updated_at)
	VALUES ($1, $2, $3, $4, $5, $6)`

// LinkLead links lead leadID to listing propertyID with relation, or
// changes the relation of their link, at now; created reports a new link.
// A lead or listing the account does not have is not found.
func (s *Store) LinkLead(ctx context.Context, accountID, propertyID, leadID, relation string, now time.Time) (axiom.PropertyLink, bool, error) {
	var (
		k       axiom.PropertyLink
		created bool
	)
	err := s.write(ctx, true, func(c Conn) error {
		var one int
		err := c.QueryRowContext(ctx, "SELECT 1 FROM properties WHERE id = $1 AND account_id = $2"+s.d.lock("", false), propertyID, accountID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return axiom.PropertyNotFound(propertyID)
		}
		if err != nil {
			return err
		}
		err = c.QueryRowContext(ctx, "SELECT 1 FROM leads WHERE id = $1 AND account_id = $2"+s.d.lock("", false), leadID, accountID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return axiom.LeadNotFound(leadID)
		}
		if err != nil {
			return err
		}
		n, err := affected(c.ExecContext(ctx, insertLinkSQL+" ON CONFLICT (property_id, lead_id) DO NOTHING",
			accountID, propertyID, leadID, relation, s.arg(now), s.arg(now)))
		if err != nil {
			return err
		}
		if n == 1 {
			created = true
			k = axiom.PropertyLink{AccountID: accountID, PropertyID: propertyID, LeadID: leadID, Relation: relation,
				CreatedAt: axiom.StoreTime(now), UpdatedAt: axiom.StoreTime(now)}
			return nil
		}
		if k, err = scanLink(c.QueryRowContext(ctx, "SELECT "+linkColumns+" FROM property_leads WHERE property_id = $1 AND lead_id = $2"+s.d.lock("", false),
			propertyID, leadID)); err != nil {
			return err
		}
		if k.Relation == relation {
			return nil
		}
		k.Relation, k.UpdatedAt = relation, axiom.StoreTime(now)
		_, err = c.ExecContext(ctx, "UPDATE property_leads SET relation = $1, updated_at = $2 WHERE property_id = $3 AND lead_id = $4",
			relation, s.arg(now), propertyID, leadID)
		return err
	})
	if err != nil {
		return axiom.PropertyLink{}, false, s.errorf(err, "link lead %q to property %q", leadID, propertyID)
	}
	return k, created, nil
}

// UnlinkLead removes the link of lead leadID to listing propertyID.
func (s *Store) UnlinkLead(ctx context.Context, accountID, propertyID, leadID string) error {
	err := s.write(ctx, false, func(c Conn) error {
		n, err := affected(c.ExecContext(ctx, "DELETE FROM property_leads WHERE property_id = $1 AND lead_id = $2 AND account_id = $3",
			propertyID, leadID, accountID))
		if err == nil && n == 0 {
			err = axiom.LinkNotFound(propertyID, leadID)
		}
		return err
	})
	return s.errorf(err, "unlink lead %q from property %q", leadID, propertyID)
}

// PropertyLeads returns one page of the leads linked to listing propertyID,
// those of relation if set, most recently linked first, ties by lead id.
func (s *Store) PropertyLeads(ctx context.Context, accountID, propertyID, relation string, q axiom.Query) (axiom.Page[axiom.Linked[axiom.Lead]], error) {
	if err := s.exists(ctx, q, "properties", accountID, propertyID, axiom.PropertyNotFound(propertyID)); err != nil {
		return axiom.Page[axiom.Linked[axiom.Lead]]{}, s.errorf(err, "leads of property %q", propertyID)
	}
	p, err := linkedPage(ctx, s, q, "property_id", "lead_id", "leads", leadRow(s.d, "leads"), scanLeadWith, propertyID, accountID, relation)
	return p, s.errorf(err, "leads of property %q", propertyID)
}

// LeadProperties returns one page of the listings lead leadID is linked
// to, those of relation if set, most recently linked first, ties by id.
func (s *Store) LeadProperties(ctx context.Context, accountID, leadID, relation string, q axiom.Query) (axiom.Page[axiom.Linked[axiom.Property]], error) {
	if err := s.exists(ctx, q, "leads", accountID, leadID, axiom.LeadNotFound(leadID)); err != nil {
		return axiom.Page[axiom.Linked[axiom.Property]]{}, s.errorf(err, "properties of lead %q", leadID)
	}
	p, err := linkedPage(ctx, s, q, "lead_id", "property_id", "properties", PropertyColumns, scanProperty, leadID, accountID, relation)
	return p, s.errorf(err, "properties of lead %q", leadID)
}

// linkedPage reads page q of the links whose column by is id, each with
// the row of table (the other side, named by column other) that scan reads
// as columns, followed by the link's columns.
func linkedPage[T axiom.Lead | axiom.Property](ctx context.Context, s *Store, q axiom.Query, by, other, table, columns string,
	scan func(Scanner, ...any) (T, error), id, accountID, relation string) (axiom.Page[axiom.Linked[T]], error) {
	query := "SELECT " + columns + ", " + linkColumns + " FROM property_leads JOIN " + table + " ON " + table + ".id = property_leads." + other +
		" WHERE property_leads." + by + " = $1 AND property_leads.account_id = $2 AND ($3 = '' OR property_leads.relation = $3)" +
		" ORDER BY property_leads.created_at DESC, property_leads." + other + " DESC LIMIT $4 OFFSET $5"
	return listPage(ctx, s, q, func(row Scanner) (axiom.Linked[T], error) {
		var (
			l      axiom.Linked[T]
			cr, up Time
		)
		item, err := scan(row, linkDest(&l.Link, &cr, &up)...)
		l.Item, l.Link.CreatedAt, l.Link.UpdatedAt = item, cr.Time, up.Time
		return l, err
	}, query, id, accountID, relation)
}

// PropertyLinks lists the links to the listings ids of accountID, for
// selecting a campaign's audience.
func (s *Store) PropertyLinks(ctx context.Context, accountID string, ids []string) ([]axiom.PropertyLink, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := []any{accountID}
	marks := make([]string, len(ids))
	for i, id := range ids {
		args = append(args, id)
		marks[i] = fmt.Sprintf("$%d", i+2)
	}
	rows, err := s.r.QueryContext(ctx, s.rebind("SELECT "+linkColumns+" FROM property_leads WHERE account_id = $1 AND property_id IN ("+
		strings.Join(marks, ", ")+")"), args...)
	links, err := collect(rows, err, 0, scanLink)
	return links, s.errorf(err, "property links")
}

// exists checks the page q and that table has row id of accountID, or
// returns missing.
func (s *Store) exists(ctx context.Context, q axiom.Query, table, accountID, id string, missing error) error {
	if err := checkPage(q); err != nil {
		return err
	}
	var one int
	err := s.read().QueryRowContext(ctx, "SELECT 1 FROM "+table+" WHERE id = $1 AND account_id = $2", id, accountID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return missing
	}
	return err
}
