package axiom_test

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"testing"

	"go.yaml.in/yaml/v4"

	"github.com/axiomkit/axiom"
)

// The codes and statuses of the domain are the spec's: its ErrorCode enum
// and the table in its description.
func TestErrorCodesAreTheSpecs(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas struct {
				ErrorCode struct {
					Description string   `yaml:"description"`
					Enum        []string `yaml:"enum"`
				} `yaml:"ErrorCode"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(axiom.OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	spec := doc.Components.Schemas.ErrorCode
	var ours []string
	for _, c := range axiom.ErrorCodes() {
		ours = append(ours, string(c))
	}
	if !slices.Equal(spec.Enum, ours) {
		t.Errorf("the spec's codes %v, the domain's %v", spec.Enum, ours)
	}
	rows := regexp.MustCompile("(?m)^\\|\\s*`([a-z_]+)`\\s*\\|\\s*([1-5][0-9][0-9])\\s*\\|").FindAllStringSubmatch(spec.Description, -1)
	if len(rows) != len(ours) {
		t.Errorf("the spec's table has %d rows, the domain %d codes", len(rows), len(ours))
	}
	for _, m := range rows {
		status, _ := strconv.Atoi(m[2])
		if got := axiom.ErrorCode(m[1]).Status(); got != status {
			t.Errorf("%s: the spec says %d, the domain %d", m[1], status, got)
		}
	}
}

func TestErrorMatchesItsCode(t *testing.T) {
	err := fmt.Errorf("sqlite: get lead: %w", axiom.LeadNotFound("cnt_1"))
	if !errors.Is(err, axiom.ErrNotFound) || errors.Is(err, axiom.ErrDuplicate) {
		t.Errorf("errors.Is(%v): want not_found only", err)
	}
	if got := axiom.ErrorCodeOf(err); got != axiom.CodeNotFound {
		t.Errorf("ErrorCodeOf = %s", got)
	}
	if got := axiom.ErrorCodeOf(errors.New("disk on fire")); got != axiom.CodeInternal {
		t.Errorf("ErrorCodeOf(plain error) = %s, want internal_error", got)
	}
	if e, _ := errors.AsType[*axiom.Error](err); e.Message != "No lead with id 'cnt_1'" {
		t.Errorf("message %q", e.Message)
	}
	if axiom.ErrorCode("made_up").Status() != 500 || axiom.ErrorCode("made_up").Known() {
		t.Error("an unknown code must be unknown and answer 500")
	}
}

func TestPlans(t *testing.T) {
	for _, tt := range []struct {
		plan        axiom.Plan
		rate, burst int
		wantValid   bool
	}{
		{axiom.PlanStarter, 60, 100, true},
		{axiom.PlanProfessional, 120, 200, true},
		{axiom.PlanEnterprise, 300, 500, true},
		{"platinum", 60, 100, false}, // unknown: the strictest
	} {
		if l := tt.plan.RateLimit(); l.Rate != tt.rate || l.Burst != tt.burst || tt.plan.Valid() != tt.wantValid {
			t.Errorf("%s: %+v valid %v", tt.plan, l, tt.plan.Valid())
		}
	}
	if _, err := axiom.ParsePlan("gold"); err == nil {
		t.Error("ParsePlan(gold) succeeded")
	}
}
