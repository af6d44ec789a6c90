package axiom

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Dataset is a database's worth of the API's records: accounts, each with
// its keys, leads, templates, listings and their links, and campaigns. It is what a fixture file holds,
// what `axiom export` writes and what a reset restores. Campaign messages,
// tracking events and Idempotency-Keys are not part of it: a dataset is
// the state a test starts from, not a history.
type Dataset struct {
	Accounts []AccountData
}

// AccountData is one account of a Dataset and everything it owns. Every
// record's AccountID is the account's ID.
type AccountData struct {
	Account    Account
	Keys       []Key
	Leads      []Lead
	Templates  []Template
	Properties []Property
	Links      []PropertyLink // of the account's leads to its listings
	Campaigns  []Campaign
}

// Counts is how many records of each kind d holds.
func (d Dataset) Counts() (accounts, keys, leads, templates, campaigns int) {
	for _, a := range d.Accounts {
		accounts++
		keys += len(a.Keys)
		leads += len(a.Leads)
		templates += len(a.Templates)
		campaigns += len(a.Campaigns)
	}
	return
}

// DatasetError is a record of a dataset that cannot be stored.
type DatasetError struct {
	// Path names the record: "accounts[0].leads[2]".
	Path string
	// Field names the field at fault, "" for the record as a whole.
	Field string
	// Message says what is wrong, for people.
	Message string
	// Err is the cause, when a store refused the record; logged, not shown.
	Err error
}

func (e *DatasetError) Unwrap() error { return e.Err }

func (e *DatasetError) Error() string {
	if e.Field == "" {
		return e.Path + ": " + e.Message
	}
	return e.Path + "." + e.Field + ": " + e.Message
}

// seedableStatuses are the campaign statuses a dataset may hold: a sending
// campaign has an outbox, which a dataset does not carry.
var seedableStatuses = []CampaignStatus{CampaignDraft, CampaignScheduled, CampaignSent, CampaignCancelled}

// Seedable reports whether a dataset may hold a campaign in status s.
func (s CampaignStatus) Seedable() bool { return slices.Contains(seedableStatuses, s) }

// Check returns what in d cannot be stored as it is, record by record:
// ids of the wrong kind or used twice, an account's emails used twice (as
// EmailKey compares them), a key hash used twice, records of another
// account, and campaigns whose status or times do not fit together. The
// fields of each record are the API's, whose schemas say what they may
// hold; Check tells what no single record's schema can.
func (d Dataset) Check() []*DatasetError {
	var errs []*DatasetError
	add := func(path, field, format string, args ...any) {
		errs = append(errs, &DatasetError{Path: path, Field: field, Message: fmt.Sprintf(format, args...)})
	}
	seen := map[string]string{} // id → the path that has it
	unique := func(path, field, kind, id string) {
		if first, ok := seen[kind+" "+id]; ok {
			add(path, field, "%s '%s' is already used by %s", kind, id, first)
			return
		}
		seen[kind+" "+id] = path
	}
	// recordID checks the id of the record at path: of its kind, used once.
	recordID := func(path, prefix, kind, id string) {
		if !ValidID(prefix, id) {
			add(path, "id", "'%s' is not a valid %s id (%s and 1 to 32 letters or digits)", clipped(id), kind, prefix)
		}
		unique(path, "id", kind+" id", id)
	}
	for i, a := range d.Accounts {
		ap := fmt.Sprintf("accounts[%d]", i)
		recordID(ap, PrefixAccount, "account", a.Account.ID)
		if !a.Account.Plan.Valid() {
			add(ap, "plan", "unknown plan '%s': want starter, professional or enterprise", clipped(string(a.Account.Plan)))
		}
		for j, k := range a.Keys {
			kp := fmt.Sprintf("%s.keys[%d]", ap, j)
			owned(add, kp, k.AccountID, a.Account.ID)
			recordID(kp, PrefixKey, "key", k.ID)
			if len(k.Hash) != 32 {
				add(kp, "sha256", "a key's hash is 32 bytes, not %d", len(k.Hash))
			} else {
				unique(kp, "secret", "key secret", string(k.Hash))
			}
			if k.RevokedAt != nil && k.RevokedAt.Before(k.CreatedAt) {
				add(kp, "revoked_at", "a key cannot be revoked before it is created")
			}
		}
		emails := map[string]string{}
		for j, l := range a.Leads {
			lp := fmt.Sprintf("%s.leads[%d]", ap, j)
			owned(add, lp, l.AccountID, a.Account.ID)
			recordID(lp, PrefixLead, "lead", l.ID)
			if first, ok := emails[EmailKey(l.Email)]; ok {
				add(lp, "email", "the account already has a lead with email '%s' (%s)", clipped(l.Email), first)
			} else {
				emails[EmailKey(l.Email)] = lp
			}
			inOrder(add, lp, l.CreatedAt, l.UpdatedAt)
		}
		slugs := map[string]bool{}
		for j, t := range a.Templates {
			tp := fmt.Sprintf("%s.templates[%d]", ap, j)
			owned(add, tp, t.AccountID, a.Account.ID)
			if slugs[t.Slug] {
				add(tp, "slug", "the account already has a template with slug '%s'", clipped(t.Slug))
			}
			slugs[t.Slug] = true
			inOrder(add, tp, t.CreatedAt, t.UpdatedAt)
		}
		leads := map[string]bool{}
		for _, l := range a.Leads {
			leads[l.ID] = true
		}
		properties := map[string]bool{}
		for j, p := range a.Properties {
			pp := fmt.Sprintf("%s.properties[%d]", ap, j)
			owned(add, pp, p.AccountID, a.Account.ID)
			recordID(pp, PrefixProperty, "property", p.ID)
			properties[p.ID] = true
			inOrder(add, pp, p.CreatedAt, p.UpdatedAt)
		}
		linked := map[[2]string]string{}
		for j, k := range a.Links {
			kp := fmt.Sprintf("%s.links[%d]", ap, j)
			owned(add, kp, k.AccountID, a.Account.ID)
			if !properties[k.PropertyID] {
				add(kp, "property_id", "the account has no property with id '%s'", clipped(k.PropertyID))
			}
			if !leads[k.LeadID] {
				add(kp, "lead_id", "the account has no lead with id '%s'", clipped(k.LeadID))
			}
			if !slices.Contains(PropertyRelations, k.Relation) {
				add(kp, "relation", "unknown relation '%s': want %s", clipped(k.Relation), strings.Join(PropertyRelations, ", "))
			}
			if first, ok := linked[[2]string{k.PropertyID, k.LeadID}]; ok {
				add(kp, "", "lead '%s' is already linked to property '%s' (%s)", clipped(k.LeadID), clipped(k.PropertyID), first)
			}
			linked[[2]string{k.PropertyID, k.LeadID}] = kp
			inOrder(add, kp, k.CreatedAt, k.UpdatedAt)
		}
		for j, c := range a.Campaigns {
			cp := fmt.Sprintf("%s.campaigns[%d]", ap, j)
			owned(add, cp, c.AccountID, a.Account.ID)
			recordID(cp, PrefixCampaign, "campaign", c.ID)
			inOrder(add, cp, c.CreatedAt, c.UpdatedAt)
			checkCampaign(add, cp, c, slugs)
			for _, id := range c.Audience.Properties {
				if !properties[id] {
					add(cp, "audience", "the account has no property with id '%s'", clipped(id))
				}
			}
		}
	}
	return errs
}

type addFunc func(path, field, format string, args ...any)

func owned(add addFunc, path, got, want string) {
	if got != want {
		add(path, "", "belongs to account '%s', not to the account '%s' it is listed under", clipped(got), clipped(want))
	}
}

func inOrder(add addFunc, path string, created, updated time.Time) {
	if updated.Before(created) {
		add(path, "updated_at", "%s is before created_at %s", updated.Format(time.RFC3339), created.Format(time.RFC3339))
	}
}

// checkCampaign checks that c's status can be stored and that the times it
// has are those its status implies; slugs are its account's templates.
func checkCampaign(add addFunc, path string, c Campaign, slugs map[string]bool) {
	if !c.Status.Seedable() {
		names := make([]string, len(seedableStatuses))
		for i, s := range seedableStatuses {
			names[i] = string(s)
		}
		add(path, "status", "'%s' cannot be stored without an outbox: want %s", clipped(string(c.Status)), strings.Join(names, ", "))
		return
	}
	// A campaign that can still be sent must name a template to send.
	if c.Status.Allows(OpSend) && !slugs[c.Template] {
		add(path, "template", "the account has no template with slug '%s'", clipped(c.Template))
	}
	switch {
	case c.Status == CampaignScheduled && c.ScheduledAt == nil:
		add(path, "scheduled_at", "a scheduled campaign needs the time it starts")
	case c.Status == CampaignDraft && c.ScheduledAt != nil:
		add(path, "scheduled_at", "a draft has no start time; make it scheduled")
	}
	if c.Status == CampaignSent && (c.StartedAt == nil || c.CompletedAt == nil) {
		add(path, "completed_at", "a sent campaign needs started_at and completed_at")
	}
	if c.Status == CampaignCancelled && c.CompletedAt == nil {
		add(path, "completed_at", "a cancelled campaign needs completed_at, when it was cancelled")
	}
	if (c.Status == CampaignDraft || c.Status == CampaignScheduled) && (c.StartedAt != nil || c.CompletedAt != nil) {
		add(path, "started_at", "a %s campaign has not started", c.Status)
	}
}

// clipped keeps a value quoted in a message short.
func clipped(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
