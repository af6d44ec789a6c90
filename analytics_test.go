package axiom_test

import (
	"testing"
	"time"

	"github.com/axiomkit/axiom"
)

func TestMoney(t *testing.T) {
	for _, tt := range []struct {
		amount, currency string
		minor            int64
		want             string // "" when refused
	}{
		{"450000.5", "EUR", 45_000_050, "450000.50"},
		{"450000", "JPY", 450_000, "450000"},
		{"0.001", "BHD", 1, "0.001"},
		{"1.2345", "CLF", 12_345, "1.2345"},
		{"999999999999999.99", "USD", 99_999_999_999_999_999, "999999999999999.99"},
		{"1.5", "JPY", 0, ""},
		{"1.001", "EUR", 0, ""},
		{"1", "XAU", 0, ""},
		{"1", "DEM", 0, ""},
		{"1.", "EUR", 0, ""},
		{".5", "EUR", 0, ""},
		{"1e3", "EUR", 0, ""},
		{"1234567890123456", "EUR", 0, ""},
	} {
		m, err := axiom.ParseMoney("price", tt.amount, tt.currency)
		switch {
		case tt.want == "" && axiom.ErrorCodeOf(err) != axiom.CodeInvalidParameter:
			t.Errorf("ParseMoney(%s %s) = %+v, %v; want invalid_parameter", tt.amount, tt.currency, m, err)
		case tt.want != "" && (err != nil || m.Minor != tt.minor || m.Amount() != tt.want):
			t.Errorf("ParseMoney(%s %s) = %+v (%s), %v; want %d, %s", tt.amount, tt.currency, m, m.Amount(), err, tt.minor, tt.want)
		}
	}
	// Values compare across currencies at one scale.
	eur, jpy := axiom.Money{Minor: 150, Currency: "EUR"}, axiom.Money{Minor: 2, Currency: "JPY"}
	if eur.Value() != 15_000 || jpy.Value() != 20_000 {
		t.Errorf("values %d, %d; want 15000, 20000", eur.Value(), jpy.Value())
	}
}

func TestIntervals(t *testing.T) {
	zone := func(name string) *time.Location {
		loc, err := axiom.LoadZone(name)
		if err != nil {
			t.Fatal(err)
		}
		return loc
	}
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tt := range []struct {
		name     string
		from, to string
		iv       axiom.Interval
		tz       string
		starts   []string // each point's start; the last point ends at to
	}{
		{"a short day in Lisbon", "2025-03-29T12:00:00Z", "2025-04-01T00:00:00+01:00", axiom.IntervalDay, "Europe/Lisbon",
			[]string{"2025-03-29T12:00:00Z", "2025-03-30T00:00:00Z", "2025-03-31T00:00:00+01:00"}},
		{"a long day in New York", "2025-11-02T00:00:00-04:00", "2025-11-04T00:00:00-05:00", axiom.IntervalDay, "America/New_York",
			[]string{"2025-11-02T00:00:00-04:00", "2025-11-03T00:00:00-05:00"}},
		// Havana's clocks went from 00:00 to 01:00: that day began at 01:00.
		{"a skipped midnight", "2024-03-09T00:00:00-05:00", "2024-03-11T00:00:00-04:00", axiom.IntervalDay, "America/Havana",
			[]string{"2024-03-09T00:00:00-05:00", "2024-03-10T01:00:00-04:00"}},
		// Samoa skipped 30 December 2011 whole.
		{"a skipped day", "2011-12-29T00:00:00-10:00", "2012-01-01T00:00:00+14:00", axiom.IntervalDay, "Pacific/Apia",
			[]string{"2011-12-29T00:00:00-10:00", "2011-12-31T00:00:00+14:00"}},
		{"weeks from Monday", "2025-01-01T00:00:00Z", "2025-01-20T00:00:00Z", axiom.IntervalWeek, "UTC",
			[]string{"2025-01-01T00:00:00Z", "2025-01-06T00:00:00Z", "2025-01-13T00:00:00Z"}},
		{"months from the 1st, in Kathmandu", "2025-01-15T00:00:00Z", "2025-03-31T18:15:00Z", axiom.IntervalMonth, "Asia/Kathmandu",
			[]string{"2025-01-15T00:00:00Z", "2025-01-31T18:15:00Z", "2025-02-28T18:15:00Z"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			spans, err := axiom.Intervals(at(tt.from), at(tt.to), tt.iv, zone(tt.tz))
			if err != nil {
				t.Fatal(err)
			}
			if len(spans) != len(tt.starts) {
				t.Fatalf("%d points %v; want %d", len(spans), spans, len(tt.starts))
			}
			for i, s := range spans {
				if !s.Start.Equal(at(tt.starts[i])) {
					t.Errorf("point %d starts %v; want %s", i, s.Start, tt.starts[i])
				}
				if i > 0 && !spans[i-1].End.Equal(s.Start) {
					t.Errorf("a gap before point %d", i)
				}
			}
			if !spans[len(spans)-1].End.Equal(at(tt.to)) {
				t.Errorf("the last point ends %v; want %s", spans[len(spans)-1].End, tt.to)
			}
		})
	}
	if _, err := axiom.Intervals(at("2020-01-01T00:00:00Z"), at("2023-01-01T00:00:00Z"), axiom.IntervalDay, time.UTC); axiom.ErrorCodeOf(err) != axiom.CodeInvalidParameter {
		t.Errorf("1,096 days: %v; want invalid_parameter", err)
	}
	if _, err := axiom.LoadZone("Mars/Olympus"); axiom.ErrorCodeOf(err) != axiom.CodeInvalidParameter {
		t.Errorf("an unknown zone: %v", err)
	}
}
