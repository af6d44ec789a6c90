package axiom_test

import (
	"slices"
	"testing"

	"go.yaml.in/yaml/v4"

	"github.com/axiomkit/axiom"
)

// The reasons of a suppression and the message statuses are the spec's.
func TestSuppressionEnumsAreTheSpecs(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Enum []string `yaml:"enum"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(axiom.OpenAPI, &doc); err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, r := range axiom.SuppressionReasons() {
		reasons = append(reasons, string(r))
	}
	if spec := doc.Components.Schemas["SuppressionReason"].Enum; !slices.Equal(spec, reasons) {
		t.Errorf("the spec's reasons %v, the domain's %v", spec, reasons)
	}
	statuses := []string{string(axiom.MessageQueued), string(axiom.MessageSent), string(axiom.MessageFailed), string(axiom.MessageSuppressed)}
	if spec := doc.Components.Schemas["CampaignMessageStatus"].Enum; !slices.Equal(spec, statuses) {
		t.Errorf("the spec's message statuses %v, the domain's %v", spec, statuses)
	}
}

// A suppression's key is the SHA-256 hex of the address in lower case, as
// the spec's email_sha256 says: equal for every spelling of the address.
func TestSuppressionKey(t *testing.T) {
	const want = "86e0b9e56c17cc4d12387e1949b85053fbe73bc3ce5a1188713a9d300cc6133d" // sha256("jane.doe@example.com")
	for _, e := range []string{"jane.doe@example.com", "Jane.Doe@Example.COM"} {
		if got := axiom.SuppressionKey(e); got != want {
			t.Errorf("SuppressionKey(%q) = %s; want %s", e, got, want)
		}
	}
}
