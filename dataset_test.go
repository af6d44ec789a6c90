package axiom_test

import (
	"testing"
	"time"

	"github.com/axiomkit/axiom"
)

// validDataset is one account with one record of each kind.
func validDataset() axiom.Dataset {
	at := time.Date(2025, 1, 15, 10, 0, 0, 0, time.UTC)
	k, _ := axiom.NewKey("acc_demo", "ci", false, at)
	return axiom.Dataset{Accounts: []axiom.AccountData{{
		Account:   axiom.Account{ID: "acc_demo", Plan: axiom.PlanStarter, CreatedAt: at},
		Keys:      []axiom.Key{k},
		Leads:     []axiom.Lead{{ID: "cnt_jane", AccountID: "acc_demo", Name: "Jane", Email: "jane@example.com", CreatedAt: at, UpdatedAt: at}},
		Templates: []axiom.Template{{AccountID: "acc_demo", Slug: "welcome", Name: "Welcome", CreatedAt: at, UpdatedAt: at}},
		Campaigns: []axiom.Campaign{{ID: "cmp_spring", AccountID: "acc_demo", Name: "Spring", Template: "welcome",
			Status: axiom.CampaignDraft, CreatedAt: at, UpdatedAt: at}},
	}}}
}

func TestDatasetCheck(t *testing.T) {
	at := time.Date(2025, 1, 15, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		edit      func(d *axiom.Dataset)
		wantPath  string
		wantField string
	}{
		{"valid", func(*axiom.Dataset) {}, "", ""},
		{"account id of another kind", func(d *axiom.Dataset) { d.Accounts[0].Account.ID = "cnt_demo" }, "accounts[0]", "id"},
		{"unknown plan", func(d *axiom.Dataset) { d.Accounts[0].Account.Plan = "gold" }, "accounts[0]", "plan"},
		{"key hash of the wrong size", func(d *axiom.Dataset) { d.Accounts[0].Keys[0].Hash = []byte{1} }, "accounts[0].keys[0]", "sha256"},
		{"the same secret twice", func(d *axiom.Dataset) {
			k := d.Accounts[0].Keys[0]
			k.ID = "key_other"
			d.Accounts[0].Keys = append(d.Accounts[0].Keys, k)
		}, "accounts[0].keys[1]", "secret"},
		{"an email twice, in another case", func(d *axiom.Dataset) {
			l := d.Accounts[0].Leads[0]
			l.ID, l.Email = "cnt_other", "JANE@example.com"
			d.Accounts[0].Leads = append(d.Accounts[0].Leads, l)
		}, "accounts[0].leads[1]", "email"},
		{"a lead id twice", func(d *axiom.Dataset) {
			l := d.Accounts[0].Leads[0]
			l.Email = "other@example.com"
			d.Accounts[0].Leads = append(d.Accounts[0].Leads, l)
		}, "accounts[0].leads[1]", "id"},
		{"a lead of another account", func(d *axiom.Dataset) { d.Accounts[0].Leads[0].AccountID = "acc_other" }, "accounts[0].leads[0]", ""},
		{"updated before created", func(d *axiom.Dataset) { d.Accounts[0].Leads[0].UpdatedAt = at.Add(-time.Hour) }, "accounts[0].leads[0]", "updated_at"},
		{"a slug twice", func(d *axiom.Dataset) {
			d.Accounts[0].Templates = append(d.Accounts[0].Templates, d.Accounts[0].Templates[0])
		}, "accounts[0].templates[1]", "slug"},
		{"a draft of a missing template", func(d *axiom.Dataset) { d.Accounts[0].Campaigns[0].Template = "nope" }, "accounts[0].campaigns[0]", "template"},
		{"a sending campaign", func(d *axiom.Dataset) { d.Accounts[0].Campaigns[0].Status = axiom.CampaignSending }, "accounts[0].campaigns[0]", "status"},
		{"scheduled without a time", func(d *axiom.Dataset) { d.Accounts[0].Campaigns[0].Status = axiom.CampaignScheduled }, "accounts[0].campaigns[0]", "scheduled_at"},
		{"sent without times", func(d *axiom.Dataset) { d.Accounts[0].Campaigns[0].Status = axiom.CampaignSent }, "accounts[0].campaigns[0]", "completed_at"},
		{"a draft that started", func(d *axiom.Dataset) { d.Accounts[0].Campaigns[0].StartedAt = &at }, "accounts[0].campaigns[0]", "started_at"},
		{"a sent campaign of a deleted template", func(d *axiom.Dataset) {
			c := &d.Accounts[0].Campaigns[0]
			c.Status, c.Template, c.StartedAt, c.CompletedAt = axiom.CampaignSent, "gone", &at, &at
		}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := validDataset()
			tt.edit(&d)
			errs := d.Check()
			if tt.wantPath == "" {
				if len(errs) != 0 {
					t.Errorf("Check = %v; want nothing", errs)
				}
				return
			}
			if len(errs) == 0 || errs[0].Path != tt.wantPath || errs[0].Field != tt.wantField {
				t.Errorf("Check = %v; want first an error at %s field %q", errs, tt.wantPath, tt.wantField)
			}
		})
	}
}
