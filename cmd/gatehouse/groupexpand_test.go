package main

import (
	"context"
	"encoding/json"
	"reflect"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/okta/okta-sdk-golang/v5/okta"
)

// countingDirectory and countingCatalog count the reads behind
// expand=stats, to check that a page of groups costs one count of members
// and one count of app assignments, not one per group.
type countingDirectory struct {
	directory.Store
	memberCounts, groupReads *atomic.Int32
}

func (c countingDirectory) GroupMemberCounts(ctx context.Context, groupIDs []string) (map[string]int, error) {
	c.memberCounts.Add(1)
	return c.Store.GroupMemberCounts(ctx, groupIDs)
}

func (c countingDirectory) GroupMembers(ctx context.Context, groupID, after string, limit int) ([]*directory.User, error) {
	c.groupReads.Add(1)
	return c.Store.GroupMembers(ctx, groupID, after, limit)
}

type countingCatalog struct {
	catalog.Store
	appCounts, groupReads *atomic.Int32
}

func (c countingCatalog) GroupAppCounts(ctx context.Context, groupIDs []string) (map[string]int, error) {
	c.appCounts.Add(1)
	return c.Store.GroupAppCounts(ctx, groupIDs)
}

func (c countingCatalog) GroupApps(ctx context.Context, groupID, after string, limit int) ([]*catalog.GroupAssignment, error) {
	c.groupReads.Add(1)
	return c.Store.GroupApps(ctx, groupID, after, limit)
}

// TestOktaGroupsExpand checks Okta's expand on the groups API, through
// the official Okta Go SDK (listGroups' Expand) and raw HTTP (getGroup,
// whose expand Okta answers though the SDK has no parameter for it), on
// SQLite and PostgreSQL: expand=stats embeds _embedded.stats with
// usersCount, appsCount, groupPushMappingsCount and hasAdminPrivilege
// counted for the whole page at once; expand=app embeds nothing for
// OKTA_GROUP groups; unknown values are ignored.
func TestOktaGroupsExpand(t *testing.T) {
	for _, pg := range []bool{false, true} {
		name := "sqlite"
		if pg {
			name = "postgres"
		}
		t.Run(name, func(t *testing.T) { testOktaGroupsExpand(t, newTestServer(t, pg)) })
	}
}

func testOktaGroupsExpand(t *testing.T, ts *testServer) {
	ctx := context.Background()
	c := sdkClient(t, ts)
	var memberCounts, appCounts, groupReads atomic.Int32
	ts.directory.Store = countingDirectory{Store: ts.directory.Store, memberCounts: &memberCounts, groupReads: &groupReads}
	ts.catalog.Store = countingCatalog{Store: ts.catalog.Store, appCounts: &appCounts, groupReads: &groupReads}
	reads := func() [3]int32 {
		return [3]int32{memberCounts.Swap(0), appCounts.Swap(0), groupReads.Swap(0)}
	}

	// Agents: ann, bob and a deactivated cy, assigned to Wiki and Tracker;
	// Supervisors: ann, assigned to Wiki; Empty: no one, no app.
	ann := ts.createUser(t, "ann@example.com", "Correct-Horse-42")
	bob := ts.createUser(t, "bob@example.com", "Correct-Horse-42")
	cy := ts.createUser(t, "cy@example.com", "Correct-Horse-42")
	group := map[string]string{} // name -> id
	for _, name := range []string{"Agents", "Supervisors", "Empty"} {
		g, _, err := c.GroupAPI.CreateGroup(ctx).Group(okta.Group{Profile: &okta.GroupProfile{Name: okta.PtrString(name)}}).Execute()
		if err != nil {
			t.Fatalf("create group: %v", err)
		}
		group[name] = g.GetId()
	}
	for _, m := range [][2]string{{"Agents", ann.ID}, {"Agents", bob.ID}, {"Agents", cy.ID}, {"Supervisors", ann.ID}} {
		if _, err := c.GroupAPI.AssignUserToGroup(ctx, group[m[0]], m[1]).Execute(); err != nil {
			t.Fatalf("assign: %v", err)
		}
	}
	if _, err := c.UserAPI.DeactivateUser(ctx, cy.ID).Execute(); err != nil {
		t.Fatalf("deactivate: %v (%s)", err, oktaErrorCode(err))
	}
	app := map[string]string{}
	for _, label := range []string{"Wiki", "Tracker"} {
		r := ts.call(t, "POST", "/api/v1/apps", ts.token, samlApp(`"label":"Good"`, `"label":"`+label+`"`))
		if r.status != 200 {
			t.Fatalf("create app: %d %s", r.status, r.raw)
		}
		app[label] = r.body["id"].(string)
	}
	for _, a := range [][2]string{{"Wiki", "Agents"}, {"Tracker", "Agents"}, {"Wiki", "Supervisors"}} {
		if _, _, err := c.ApplicationGroupsAPI.AssignGroupToApplication(ctx, app[a[0]], group[a[1]]).Execute(); err != nil {
			t.Fatalf("assign group to app: %v (%s)", err, oktaErrorCode(err))
		}
	}
	// What Okta's stats say of each group, as the group's own lists count.
	type stats struct{ users, apps int }
	want := map[string]stats{"Agents": {3, 2}, "Supervisors": {1, 1}, "Empty": {0, 0}}
	for name, w := range want {
		members, _, err1 := c.GroupAPI.ListGroupUsers(ctx, group[name]).Execute()
		apps, _, err2 := c.GroupAPI.ListAssignedApplicationsForGroup(ctx, group[name]).Execute()
		if err1 != nil || err2 != nil || len(members) != w.users || len(apps) != w.apps {
			t.Fatalf("%s lists %d members and %d apps, want %d and %d (%v %v)", name, len(members), len(apps), w.users, w.apps, err1, err2)
		}
	}
	reads()

	base := ts.cfg.EffectiveBaseURL()
	checkStats := func(where string, g okta.Group) {
		t.Helper()
		name := g.Profile.GetName()
		s, ok := g.GetEmbedded()["stats"]
		if !ok {
			t.Fatalf("%s: %s has no _embedded.stats: %+v", where, name, g.GetEmbedded())
		}
		w := want[name]
		if s["usersCount"] != float64(w.users) || s["appsCount"] != float64(w.apps) || s["groupPushMappingsCount"] != float64(0) || s["hasAdminPrivilege"] != false {
			t.Fatalf("%s: stats of %s %v, want %d users and %d apps", where, name, s, w.users, w.apps)
		}
		links, _ := s["_links"].(map[string]any)
		self, _ := links["self"].(map[string]any)
		if self["href"] != base+"/api/v1/groups/"+g.GetId()+"/stats" {
			t.Fatalf("%s: stats _links %v", where, s["_links"])
		}
		if len(g.GetEmbedded()) != 1 {
			t.Fatalf("%s: _embedded of %s has more than stats: %v", where, name, g.GetEmbedded())
		}
	}

	// listGroups with the SDK's Expand("stats"): one page of three groups,
	// one count of members and one of apps, no per-group reads.
	gs, _, err := c.GroupAPI.ListGroups(ctx).Expand("stats").Execute()
	if err != nil || len(gs) != 3 {
		t.Fatalf("expand=stats: %v %d groups", err, len(gs))
	}
	for _, g := range gs {
		checkStats("expand=stats", g)
	}
	if r := reads(); r != [3]int32{1, 1, 0} {
		t.Fatalf("expand=stats on a page of 3 groups: %d member counts, %d app counts, %d per-group reads; want 1, 1, 0", r[0], r[1], r[2])
	}
	// Paged: the next link keeps expand, and each page is counted once.
	page, resp, err := c.GroupAPI.ListGroups(ctx).Expand("stats").Limit(2).Execute()
	if err != nil || len(page) != 2 || !resp.HasNextPage() {
		t.Fatalf("expand=stats limit=2: %v %d", err, len(page))
	}
	var rest []okta.Group
	if resp, err = resp.Next(&rest); err != nil || len(rest) != 1 || resp.HasNextPage() {
		t.Fatalf("expand=stats, second page: %v %d", err, len(rest))
	}
	for _, g := range append(page, rest...) {
		checkStats("paged expand=stats", g)
	}
	if r := reads(); r != [3]int32{2, 2, 0} {
		t.Fatalf("two pages: %d member counts, %d app counts, %d per-group reads; want 2, 2, 0", r[0], r[1], r[2])
	}
	// With q and with a sorted search, as with any list.
	if gs, _, err = c.GroupAPI.ListGroups(ctx).Q("sup").Expand("stats").Execute(); err != nil || len(gs) != 1 {
		t.Fatalf("q with expand=stats: %v %d", err, len(gs))
	}
	checkStats("q", gs[0])
	if gs, _, err = c.GroupAPI.ListGroups(ctx).Search(`type eq "OKTA_GROUP"`).SortBy("profile.name").Expand("stats").Execute(); err != nil || len(gs) != 3 || gs[0].Profile.GetName() != "Agents" {
		t.Fatalf("search with expand=stats: %v %d", err, len(gs))
	}
	for _, g := range gs {
		checkStats("search", g)
	}
	// stats with app, in either order and with spaces, and with an
	// unknown value beside it.
	for _, x := range []string{"stats,app", "app,stats", "app, stats", "stats,groupPushMapping"} {
		gs, _, err := c.GroupAPI.ListGroups(ctx).Expand(x).Execute()
		if err != nil || len(gs) != 3 {
			t.Fatalf("expand=%s: %v %d", x, err, len(gs))
		}
		for _, g := range gs {
			checkStats("expand="+x, g)
		}
	}
	// No expand, expand=app (every group is an OKTA_GROUP, sourced from no
	// app), and unknown values: no _embedded at all, nothing counted.
	reads()
	for _, x := range []string{"", "app", "bogus", "user,groupPushMapping"} {
		gs, _, err := c.GroupAPI.ListGroups(ctx).Expand(x).Execute()
		if err != nil || len(gs) != 3 {
			t.Fatalf("expand=%q: %v %d", x, err, len(gs))
		}
		for _, g := range gs {
			if g.Embedded != nil {
				t.Fatalf("expand=%q embedded %v in %s", x, g.Embedded, g.Profile.GetName())
			}
		}
	}
	if r := reads(); r != [3]int32{} {
		t.Fatalf("lists without stats counted: %v", r)
	}

	// The wire shape, raw: _embedded.stats has exactly Okta's fields, the
	// counts are JSON integers.
	r := ts.call(t, "GET", "/api/v1/groups?expand=stats&search=profile.name+eq+%22Agents%22", ts.token, "")
	var raw []map[string]json.RawMessage
	if r.status != 200 || json.Unmarshal([]byte(r.raw), &raw) != nil || len(raw) != 1 {
		t.Fatalf("raw expand=stats: %d %s", r.status, r.raw)
	}
	var embedded map[string]map[string]json.RawMessage
	if err := json.Unmarshal(raw[0]["_embedded"], &embedded); err != nil || len(embedded) != 1 {
		t.Fatalf("raw _embedded: %v %s", err, raw[0]["_embedded"])
	}
	var keys []string
	for k := range embedded["stats"] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if strings.Join(keys, ",") != "_links,appsCount,groupPushMappingsCount,hasAdminPrivilege,usersCount" {
		t.Fatalf("stats fields %v", keys)
	}
	for k, v := range map[string]string{"usersCount": "3", "appsCount": "2", "groupPushMappingsCount": "0", "hasAdminPrivilege": "false",
		"_links": `{"self":{"href":"` + base + `/api/v1/groups/` + group["Agents"] + `/stats"}}`} {
		if got := string(embedded["stats"][k]); got != v {
			t.Fatalf("raw stats %s = %s, want %s", k, got, v)
		}
	}

	// getGroup: expand=stats embeds the same stats (Okta answers it; the
	// spec and so the SDK have no expand there); without it, nothing.
	reads()
	r = ts.call(t, "GET", "/api/v1/groups/"+group["Supervisors"]+"?expand=stats", ts.token, "")
	var one okta.Group
	if r.status != 200 || json.Unmarshal([]byte(r.raw), &one) != nil {
		t.Fatalf("getGroup expand=stats: %d %s", r.status, r.raw)
	}
	checkStats("getGroup", one)
	if r := reads(); r != [3]int32{1, 1, 0} {
		t.Fatalf("getGroup expand=stats read %v", r)
	}
	for _, q := range []string{"", "?expand=app", "?expand=bogus"} {
		if r := ts.call(t, "GET", "/api/v1/groups/"+group["Supervisors"]+q, ts.token, ""); r.status != 200 || r.body["_embedded"] != nil {
			t.Fatalf("getGroup%s: %d %s", q, r.status, r.raw)
		}
	}
	if g, _, err := c.GroupAPI.GetGroup(ctx, group["Supervisors"]).Execute(); err != nil || g.Embedded != nil {
		t.Fatalf("SDK getGroup: %v %v", err, g.GetEmbedded())
	}
	// The stats' self link answers the stats alone.
	r = ts.call(t, "GET", "/api/v1/groups/"+group["Agents"]+"/stats", ts.token, "")
	var self map[string]json.RawMessage
	if r.status != 200 || json.Unmarshal([]byte(r.raw), &self) != nil || !reflect.DeepEqual(self, embedded["stats"]) {
		t.Fatalf("stats link: %d %s, want %v", r.status, r.raw, embedded["stats"])
	}
	for _, p := range []string{"/api/v1/groups/00gNOPE0000000000000?expand=stats", "/api/v1/groups/00gNOPE0000000000000/stats"} {
		if r := ts.call(t, "GET", p, ts.token, ""); r.status != 404 || r.body["errorCode"] != "E0000007" {
			t.Fatalf("%s: %d %s", p, r.status, r.raw)
		}
	}

	// The counts follow the directory and the catalog.
	if _, err := c.GroupAPI.UnassignUserFromGroup(ctx, group["Agents"], bob.ID).Execute(); err != nil {
		t.Fatalf("unassign user: %v", err)
	}
	if _, err := c.ApplicationGroupsAPI.UnassignApplicationFromGroup(ctx, app["Tracker"], group["Agents"]).Execute(); err != nil {
		t.Fatalf("unassign app: %v (%s)", err, oktaErrorCode(err))
	}
	if _, err := c.GroupAPI.AssignUserToGroup(ctx, group["Empty"], bob.ID).Execute(); err != nil {
		t.Fatalf("assign: %v", err)
	}
	want = map[string]stats{"Agents": {2, 1}, "Supervisors": {1, 1}, "Empty": {1, 0}}
	if gs, _, err = c.GroupAPI.ListGroups(ctx).Expand("stats").Execute(); err != nil || len(gs) != 3 {
		t.Fatalf("expand=stats after changes: %v %d", err, len(gs))
	}
	for _, g := range gs {
		checkStats("after changes", g)
	}
}
