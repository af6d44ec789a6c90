package store

// Normalized returns l with nil tags, notes and custom fields made empty, so
// that every backend returns a lead whose fields are all set.
func (l Lead) Normalized() Lead {
	if l.Tags == nil {
		l.Tags = []string{}
	}
	if l.Notes == nil {
		l.Notes = []string{}
	}
	if l.CustomFields == nil {
		l.CustomFields = map[string]string{}
	}
	return l
}

// Apply returns l with the fields p sets, normalized.
func (p LeadPatch) Apply(l Lead) Lead {
	for _, f := range []struct {
		dst *string
		src *string
	}{
		{&l.Name, p.Name}, {&l.Email, p.Email}, {&l.Phone, p.Phone}, {&l.Company, p.Company},
		{&l.Type, p.Type}, {&l.Status, p.Status}, {&l.Source, p.Source},
	} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	if p.Tags != nil {
		l.Tags = *p.Tags
	}
	if p.Notes != nil {
		l.Notes = *p.Notes
	}
	if p.CustomFields != nil {
		l.CustomFields = *p.CustomFields
	}
	return l.Normalized()
}
