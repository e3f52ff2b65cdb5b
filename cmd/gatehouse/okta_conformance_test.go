package main

import (
	"context"
	"slices"
	"testing"

	"github.com/okta/okta-sdk-golang/v5/okta"
)

// Regression tests for differences between Gatehouse's management API and
// Okta's published spec (okta-management-openapi-spec), found by an audit
// of the Users, Groups and Apps APIs; each is read through the official
// Okta Go SDK where the SDK has the operation.

// TestAppGroupAssignmentsQ: q on GET /api/v1/apps/{id}/groups
// (listApplicationGroupAssignments) keeps the assigned groups whose name
// starts with it, case-insensitively, and pages within them; it was
// ignored, so every assigned group came back.
func TestAppGroupAssignmentsQ(t *testing.T) {
	ts := newTestServer(t, false)
	ctx := context.Background()
	c := sdkClient(t, ts)
	appID, _ := ts.newSAMLApp(t, "Wiki", "")
	byName := map[string]string{}
	for _, name := range []string{"Editors", "Engineers", "Readers", "Senior Editors"} {
		id := ts.group(t, name)
		byName[name] = id
		if r := ts.call(t, "PUT", "/api/v1/apps/"+appID+"/groups/"+id, ts.token, ""); r.status != 200 {
			t.Fatalf("assign %s: %d %s", name, r.status, r.raw)
		}
	}
	names := func(gas []okta.ApplicationGroupAssignment) []string {
		var out []string
		for _, ga := range gas {
			for n, id := range byName {
				if id == ga.GetId() {
					out = append(out, n)
				}
			}
		}
		slices.Sort(out)
		return out
	}
	for q, want := range map[string][]string{
		"e":      {"Editors", "Engineers"},
		"EDIT":   {"Editors"},
		"senior": {"Senior Editors"},
		"ditors": nil,
		"":       {"Editors", "Engineers", "Readers", "Senior Editors"},
	} {
		req := c.ApplicationGroupsAPI.ListApplicationGroupAssignments(ctx, appID)
		if q != "" {
			req = req.Q(q)
		}
		gas, _, err := req.Execute()
		if err != nil {
			t.Fatalf("q=%q: %v", q, err)
		}
		if got := names(gas); !slices.Equal(got, want) {
			t.Fatalf("q=%q: groups %v, want %v", q, got, want)
		}
	}
	// Pages of a q keep the q: one group a page, both E groups in all,
	// followed through the SDK's next links.
	first, resp, err := c.ApplicationGroupsAPI.ListApplicationGroupAssignments(ctx, appID).Q("E").Limit(1).Execute()
	if err != nil || len(first) != 1 || !resp.HasNextPage() {
		t.Fatalf("first page of q=E: %v %d", err, len(first))
	}
	all := first
	for resp.HasNextPage() {
		var page []okta.ApplicationGroupAssignment
		if resp, err = resp.Next(&page); err != nil {
			t.Fatalf("next page: %v", err)
		}
		all = append(all, page...)
	}
	if got := names(all); !slices.Equal(got, []string{"Editors", "Engineers"}) {
		t.Fatalf("pages of q=E: %v", got)
	}
}
