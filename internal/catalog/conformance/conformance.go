// Package conformance is the test suite every implementation of
// catalog.Store must pass. sqlstore runs it on SQLite and PostgreSQL.
package conformance

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/ids"
)

// Stores is a catalog store and the directory store of the same database.
type Stores struct {
	Catalog   catalog.Store
	Directory directory.Store
}

// Run runs the suite; newStores returns empty stores for each subtest.
func Run(t *testing.T, newStores func(t *testing.T) Stores) {
	t.Run("AppRoundTrip", func(t *testing.T) { testAppRoundTrip(t, newStores(t)) })
	t.Run("ListAndPaging", func(t *testing.T) { testList(t, newStores(t)) })
	t.Run("UniqueGeneratedNames", func(t *testing.T) { testUniqueNames(t, newStores(t)) })
	t.Run("VersionConflict", func(t *testing.T) { testVersion(t, newStores(t)) })
	t.Run("Keys", func(t *testing.T) { testKeys(t, newStores(t)) })
	t.Run("Assignments", func(t *testing.T) { testAssignments(t, newStores(t)) })
	t.Run("CascadingDeletes", func(t *testing.T) { testCascade(t, newStores(t)) })
	t.Run("GroupAppCounts", func(t *testing.T) { testGroupAppCounts(t, newStores(t)) })
	t.Run("RollbackLeavesNothing", func(t *testing.T) { testRollback(t, newStores(t)) })
}

var src = ids.NewSource(nil)

func ms(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

func event(kind string) audit.Event {
	return audit.Event{UUID: src.New(ids.Event), Published: time.Now().UTC(), EventType: kind, Severity: audit.Info, Outcome: audit.Outcome{Result: audit.Success}}
}

func newApp(name, label string, at time.Time) *catalog.App {
	return &catalog.App{
		ID: src.New(ids.App), Name: name, Label: label, Status: catalog.Active, SignOnMode: catalog.SignOnModeSAML2,
		ExternalKey: src.New(ids.Instance), Created: ms(at), LastUpdated: ms(at),
		Visibility:  catalog.Visibility{Hide: catalog.Hide{IOS: true}, AppLinks: map[string]bool{"login": true}},
		Credentials: catalog.Credentials{UserNameTemplate: catalog.UserNameTemplate{Template: "${source.login}", Type: "BUILT_IN"}, SigningKid: "kid-1"},
		Settings: catalog.Settings{
			App: map[string]any{"sessionDuration": float64(3600), "appFilter": "okta", "identityProviderArn": nil},
			SignOn: catalog.SignOn{SSOAcsURL: "https://sp.example.com/acs?x=1&y=2", Audience: "urn:sp", ResponseSigned: true,
				AttributeStatements: []catalog.AttributeStatement{{Type: "EXPRESSION", Name: "email", Values: []string{"user.email"}}},
				AcsEndpoints:        []catalog.ACSEndpoint{{URL: "https://sp.example.com/acs2", Index: 2}}},
			Notes: catalog.Notes{Admin: "note"},
		},
		Secrets: map[string]string{"secretKey": "gh1.sealed"},
	}
}

func update(t *testing.T, s catalog.Store, fn func(tx catalog.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func insertApps(t *testing.T, s catalog.Store, apps ...*catalog.App) {
	t.Helper()
	update(t, s, func(tx catalog.Tx) error {
		for _, a := range apps {
			if err := tx.InsertApp(a); err != nil {
				return err
			}
			if err := tx.Append(event("application.lifecycle.create")); err != nil {
				return err
			}
		}
		return nil
	})
}

func newUser(login string) *directory.User {
	now := ms(time.Now())
	return &directory.User{ID: src.New(ids.User), Status: directory.Active, Created: now, LastUpdated: now,
		Profile: directory.Profile{"login": login, "email": login, "firstName": "F" + login[:1], "lastName": "L"}}
}

func newGroup(name string) *directory.Group {
	now := ms(time.Now())
	return &directory.Group{ID: src.New(ids.Group), Type: "OKTA_GROUP", Name: name, Created: now, LastUpdated: now, LastMembershipUpdated: now}
}

func testAppRoundTrip(t *testing.T, st Stores) {
	ctx := context.Background()
	a := newApp("amazon_aws", "AWS Prod", time.Now())
	insertApps(t, st.Catalog, a)
	for _, get := range []func() (*catalog.App, error){
		func() (*catalog.App, error) { return st.Catalog.App(ctx, a.ID) },
		func() (*catalog.App, error) { return st.Catalog.AppByExternalKey(ctx, a.ExternalKey) },
	} {
		got, err := get()
		if err != nil {
			t.Fatal(err)
		}
		if got.Version != 1 {
			t.Fatalf("version %d", got.Version)
		}
		got.Version = a.Version
		if !reflect.DeepEqual(got, a) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, a)
		}
	}
	if _, err := st.Catalog.App(ctx, "0oa00000000000000000"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("missing app: %v", err)
	}
	// AppVersion follows every change, by id and by external key.
	for _, byKey := range []bool{false, true} {
		key := a.ID
		if byKey {
			key = a.ExternalKey
		}
		cur, err := st.Catalog.App(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		id, v, err := st.Catalog.AppVersion(ctx, key, byKey)
		if err != nil || id != a.ID || v != cur.Version {
			t.Fatalf("AppVersion(%s) = %s %d %v, app has version %d", key, id, v, err, cur.Version)
		}
		update(t, st.Catalog, func(tx catalog.Tx) error { cur.Label += "!"; return tx.UpdateApp(cur) })
		if _, v2, err := st.Catalog.AppVersion(ctx, key, byKey); err != nil || v2 != v+1 {
			t.Fatalf("after an update AppVersion = %d %v, want %d", v2, err, v+1)
		}
	}
	if _, _, err := st.Catalog.AppVersion(ctx, "0oa00000000000000000", false); !errs.Is(err, errs.NotFound) {
		t.Fatalf("AppVersion of a missing app: %v", err)
	}
}

func testList(t *testing.T, st Stores) {
	ctx := context.Background()
	var apps []*catalog.App
	for i := 0; i < 9; i++ {
		a := newApp(fmt.Sprintf("org_custom%d_1", i), fmt.Sprintf("Custom %d", i), time.Now())
		if i%3 == 0 {
			a.Name, a.Label = "amazon_aws", fmt.Sprintf("AWS %d", i)
		}
		if i%2 == 0 {
			a.Status = catalog.Inactive
		}
		apps = append(apps, a)
	}
	insertApps(t, st.Catalog, apps...)
	seen := map[string]bool{}
	after := ""
	for {
		page, err := st.Catalog.Apps(ctx, catalog.AppQuery{After: after, Limit: 4})
		if err != nil {
			t.Fatal(err)
		}
		for i, a := range page {
			if seen[a.ID] || (i > 0 && page[i-1].ID >= a.ID) {
				t.Fatal("paging repeats or is out of order")
			}
			seen[a.ID] = true
		}
		if len(page) < 4 {
			break
		}
		after = page[len(page)-1].ID
	}
	if len(seen) != 9 {
		t.Fatalf("paging saw %d apps", len(seen))
	}
	cases := []struct {
		name string
		q    catalog.AppQuery
		want int
	}{
		{"name", catalog.AppQuery{Name: "AMAZON_AWS"}, 3},
		{"status", catalog.AppQuery{Status: catalog.Active}, 4},
		{"q label", catalog.AppQuery{Q: "aws"}, 3},
		{"q name prefix", catalog.AppQuery{Q: "org_custom1"}, 1},
		{"q label any case", catalog.AppQuery{Q: "CUSTOM"}, 6},
		{"q and status", catalog.AppQuery{Q: "custom", Status: catalog.Inactive}, 3},
		{"q with like metacharacters", catalog.AppQuery{Q: "c%"}, 0},
	}
	for _, c := range cases {
		c.q.Limit = 100
		got, err := st.Catalog.Apps(ctx, c.q)
		if err != nil || len(got) != c.want {
			t.Errorf("%s: %v, %d apps, want %d", c.name, err, len(got), c.want)
		}
	}
}

func testUniqueNames(t *testing.T, st Stores) {
	ctx := context.Background()
	insertApps(t, st.Catalog, newApp("org_app_1", "App", time.Now()), newApp("amazon_aws", "A", time.Now()), newApp("amazon_aws", "B", time.Now()))
	err := st.Catalog.Update(ctx, func(tx catalog.Tx) error { return tx.InsertApp(newApp("org_app_1", "App again", time.Now())) })
	if e, ok := errs.As(err); !ok || e.Kind != errs.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != "name" {
		t.Fatalf("duplicate generated name: %v", err)
	}
	update(t, st.Catalog, func(tx catalog.Tx) error {
		names, err := tx.AppNamesWithPrefix("org_app_")
		if err != nil {
			return err
		}
		if len(names) != 1 || names[0] != "org_app_1" {
			return fmt.Errorf("names with prefix: %v", names)
		}
		return nil
	})
}

func testVersion(t *testing.T, st Stores) {
	ctx := context.Background()
	a := newApp("org_v_1", "V", time.Now())
	insertApps(t, st.Catalog, a)
	stale := *a
	update(t, st.Catalog, func(tx catalog.Tx) error {
		x, err := tx.AppForUpdate(a.ID)
		if err != nil {
			return err
		}
		x.Label = "V2"
		x.Settings.SignOn.Audience = "urn:new"
		return tx.UpdateApp(x)
	})
	err := st.Catalog.Update(ctx, func(tx catalog.Tx) error { stale.Label = "stale"; return tx.UpdateApp(&stale) })
	if !errs.Is(err, errs.Conflict) {
		t.Fatalf("stale update: %v", err)
	}
	got, _ := st.Catalog.App(ctx, a.ID)
	if got.Label != "V2" || got.Settings.SignOn.Audience != "urn:new" || got.Version != 2 {
		t.Fatalf("after update: %+v", got)
	}
}

func testKeys(t *testing.T, st Stores) {
	ctx := context.Background()
	a := newApp("org_k_1", "K", time.Now())
	insertApps(t, st.Catalog, a)
	now := ms(time.Now())
	k1 := &catalog.KeyRecord{AppID: a.ID, Kid: "kid-1", Certificate: []byte{0x30, 0x82, 1, 2}, SealedKey: "gh1.x", Bits: 2048, Created: now, ExpiresAt: now.Add(365 * 24 * time.Hour)}
	k2 := &catalog.KeyRecord{AppID: a.ID, Kid: "kid-2", Certificate: []byte{0x30, 9}, SealedKey: "gh1.y", Bits: 3072, Created: now.Add(time.Second), ExpiresAt: now.Add(730 * 24 * time.Hour)}
	update(t, st.Catalog, func(tx catalog.Tx) error {
		if err := tx.InsertAppKey(k2); err != nil {
			return err
		}
		return tx.InsertAppKey(k1)
	})
	got, err := st.Catalog.AppKeys(ctx, a.ID)
	if err != nil || len(got) != 2 || !reflect.DeepEqual(got[0], k1) || !reflect.DeepEqual(got[1], k2) {
		t.Fatalf("keys: %v %+v", err, got)
	}
	err = st.Catalog.Update(ctx, func(tx catalog.Tx) error { return tx.InsertAppKey(k1) })
	if !errs.Is(err, errs.Conflict) {
		t.Fatalf("duplicate kid: %v", err)
	}
	update(t, st.Catalog, func(tx catalog.Tx) error {
		locked, err := tx.AppKeysForUpdate(a.ID)
		if err != nil || len(locked) != 2 {
			return fmt.Errorf("keys for update: %v %d", err, len(locked))
		}
		return tx.DeleteAppKey(a.ID, "kid-1")
	})
	got, _ = st.Catalog.AppKeys(ctx, a.ID)
	if len(got) != 1 || got[0].Kid != "kid-2" {
		t.Fatalf("after delete: %+v", got)
	}
}

// fixture: app with u1 direct, u2 in g1 (priority 5) and g2 (priority 1),
// u3 in g1 only, u4 with nothing.
type fixture struct {
	app            *catalog.App
	u1, u2, u3, u4 *directory.User
	g1, g2         *directory.Group
}

func setup(t *testing.T, st Stores) fixture {
	t.Helper()
	ctx := context.Background()
	f := fixture{app: newApp("org_f_1", "F", time.Now()), u1: newUser("a1@example.com"), u2: newUser("b2@example.com"),
		u3: newUser("c3@example.com"), u4: newUser("d4@example.com"), g1: newGroup("Agents"), g2: newGroup("Supervisors")}
	insertApps(t, st.Catalog, f.app)
	now := ms(time.Now())
	err := st.Directory.Update(ctx, func(tx directory.Tx) error {
		for _, u := range []*directory.User{f.u1, f.u2, f.u3, f.u4} {
			if err := tx.InsertUser(u); err != nil {
				return err
			}
		}
		for _, g := range []*directory.Group{f.g1, f.g2} {
			if err := tx.InsertGroup(g); err != nil {
				return err
			}
		}
		for _, m := range [][2]string{{f.g1.ID, f.u2.ID}, {f.g2.ID, f.u2.ID}, {f.g1.ID, f.u3.ID}} {
			if _, err := tx.AddMember(m[0], m[1], now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	update(t, st.Catalog, func(tx catalog.Tx) error {
		if _, err := tx.UserForUpdate(f.u1.ID); err != nil {
			return err
		}
		if err := tx.PutAppUser(&catalog.Assignment{AppID: f.app.ID, UserID: f.u1.ID, Scope: catalog.ScopeUser, UserName: "agent.one", UserNameSet: true,
			Profile: map[string]any{"role": "Agent", "samlRoles": []any{"Agent", "ReadOnly"}}, Status: "ACTIVE", SyncState: "DISABLED",
			Created: now, LastUpdated: now, StatusChanged: now}); err != nil {
			return err
		}
		if err := tx.PutAppGroup(&catalog.GroupAssignment{AppID: f.app.ID, GroupID: f.g1.ID, Priority: 5, Profile: map[string]any{"role": "g1"}, LastUpdated: now}); err != nil {
			return err
		}
		if err := tx.PutAppGroup(&catalog.GroupAssignment{AppID: f.app.ID, GroupID: f.g2.ID, Priority: 1, Profile: map[string]any{"role": "g2"}, LastUpdated: now}); err != nil {
			return err
		}
		return tx.Append(event("application.user_membership.add"))
	})
	return f
}

func ids4(us []*directory.User) []string {
	out := make([]string, len(us))
	for i, u := range us {
		out[i] = u.ID
	}
	return out
}

func testAssignments(t *testing.T, st Stores) {
	ctx := context.Background()
	f := setup(t, st)
	s := st.Catalog
	users, err := s.AppUsers(ctx, catalog.AppUserQuery{AppID: f.app.ID, Limit: 10})
	want := []string{f.u1.ID, f.u2.ID, f.u3.ID}
	sortStrings(want)
	if err != nil || !reflect.DeepEqual(ids4(users), want) {
		t.Fatalf("app users: %v %v, want %v", err, ids4(users), want)
	}
	page, _ := s.AppUsers(ctx, catalog.AppUserQuery{AppID: f.app.ID, After: want[0], Limit: 1})
	if len(page) != 1 || page[0].ID != want[1] {
		t.Fatalf("app users paging: %v", ids4(page))
	}
	if q, _ := s.AppUsers(ctx, catalog.AppUserQuery{AppID: f.app.ID, Q: "B2", Limit: 10}); len(q) != 1 || q[0].ID != f.u2.ID {
		t.Fatalf("app users q: %v", ids4(q))
	}
	direct, err := s.UserAssignments(ctx, f.app.ID, []string{f.u1.ID, f.u2.ID, f.u4.ID})
	if err != nil || len(direct) != 1 || direct[0].UserName != "agent.one" || !direct[0].UserNameSet || direct[0].Scope != catalog.ScopeUser ||
		!reflect.DeepEqual(direct[0].Profile["samlRoles"], []any{"Agent", "ReadOnly"}) {
		t.Fatalf("direct: %v %+v", err, direct)
	}
	grants, err := s.GroupGrants(ctx, f.app.ID, []string{f.u2.ID, f.u3.ID, f.u4.ID})
	if err != nil || len(grants) != 3 {
		t.Fatalf("grants: %v %d", err, len(grants))
	}
	byUser := map[string][]string{}
	for _, g := range grants {
		byUser[g.UserID] = append(byUser[g.UserID], g.GroupID)
	}
	if !reflect.DeepEqual(byUser[f.u2.ID], []string{f.g2.ID, f.g1.ID}) || !reflect.DeepEqual(byUser[f.u3.ID], []string{f.g1.ID}) {
		t.Fatalf("grants not in priority order: %v", byUser)
	}
	for _, c := range []struct {
		user *directory.User
		want int
	}{{f.u1, 1}, {f.u2, 1}, {f.u3, 1}, {f.u4, 0}} {
		apps, err := s.Apps(ctx, catalog.AppQuery{UserID: c.user.ID, Limit: 10})
		if err != nil || len(apps) != c.want {
			t.Fatalf("apps of %s: %v %d, want %d", c.user.Login(), err, len(apps), c.want)
		}
	}
	ga, err := s.GroupAssignments(ctx, f.app.ID, "", "", 10)
	if err != nil || len(ga) != 2 {
		t.Fatalf("group assignments: %v %d", err, len(ga))
	}
	// q keeps the groups whose name starts with it, in any case.
	if ga, err := s.GroupAssignments(ctx, f.app.ID, "sUPER", "", 10); err != nil || len(ga) != 1 || ga[0].GroupID != f.g2.ID {
		t.Fatalf("group assignments named super: %v %+v", err, ga)
	}
	if ga, err := s.GroupAssignments(ctx, f.app.ID, "visors", "", 10); err != nil || len(ga) != 0 {
		t.Fatalf("group assignments named visors (not a prefix): %v %+v", err, ga)
	}
	if g, err := s.GroupAssignment(ctx, f.app.ID, f.g2.ID); err != nil || g.Priority != 1 || g.Profile["role"] != "g2" {
		t.Fatalf("group assignment: %v %+v", err, g)
	}
	if ga, err := s.GroupApps(ctx, f.g2.ID, "", 10); err != nil || len(ga) != 1 || ga[0].AppID != f.app.ID || ga[0].Profile["role"] != "g2" {
		t.Fatalf("apps of group g2: %v %+v", err, ga)
	}
	if ga, err := s.GroupApps(ctx, f.g2.ID, f.app.ID, 10); err != nil || len(ga) != 0 {
		t.Fatalf("apps of group g2 after the app: %v %+v", err, ga)
	}
	if apps, err := s.Apps(ctx, catalog.AppQuery{ID: f.app.ID, Limit: 10}); err != nil || len(apps) != 1 || apps[0].ID != f.app.ID {
		t.Fatalf("apps by id: %v %d", err, len(apps))
	}
	if apps, err := s.Apps(ctx, catalog.AppQuery{ID: f.app.ID + "x", Limit: 10}); err != nil || len(apps) != 0 {
		t.Fatalf("apps by an unknown id: %v %d", err, len(apps))
	}
	if apps, err := s.Apps(ctx, catalog.AppQuery{GroupID: f.g2.ID, Limit: 10}); err != nil || len(apps) != 1 || apps[0].ID != f.app.ID {
		t.Fatalf("apps filtered by group g2: %v %d", err, len(apps))
	}
	if apps, err := s.Apps(ctx, catalog.AppQuery{GroupID: f.g2.ID, After: f.app.ID, Limit: 10}); err != nil || len(apps) != 0 {
		t.Fatalf("apps filtered by group g2 after the app: %v %d", err, len(apps))
	}
	if apps, err := s.Apps(ctx, catalog.AppQuery{GroupID: "00gNOPE0000000000000", Limit: 10}); err != nil || len(apps) != 0 {
		t.Fatalf("apps filtered by an unknown group: %v %d", err, len(apps))
	}
	update(t, s, func(tx catalog.Tx) error {
		max, ok, err := tx.MaxAppGroupPriority(f.app.ID)
		if err != nil || !ok || max != 5 {
			return fmt.Errorf("max priority %d %v %v", max, ok, err)
		}
		cur, err := tx.AppUserForUpdate(f.app.ID, f.u1.ID)
		if err != nil {
			return err
		}
		cur.UserName, cur.UserNameSet, cur.Profile = "", false, map[string]any{"role": "Supervisor"}
		if err := tx.PutAppUser(cur); err != nil {
			return err
		}
		if _, err := tx.AppUserForUpdate(f.app.ID, f.u4.ID); !errs.Is(err, errs.NotFound) {
			return fmt.Errorf("unassigned user: %v", err)
		}
		removed, err := tx.DeleteAppGroup(f.app.ID, f.g2.ID)
		if err != nil || !removed {
			return fmt.Errorf("delete group assignment: %v %v", removed, err)
		}
		return nil
	})
	direct, _ = s.UserAssignments(ctx, f.app.ID, []string{f.u1.ID})
	if direct[0].UserNameSet || direct[0].Profile["role"] != "Supervisor" {
		t.Fatalf("replaced assignment: %+v", direct[0])
	}
	grants, _ = s.GroupGrants(ctx, f.app.ID, []string{f.u2.ID})
	if len(grants) != 1 || grants[0].GroupID != f.g1.ID {
		t.Fatalf("grants after removing g2: %+v", grants)
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func testCascade(t *testing.T, st Stores) {
	ctx := context.Background()
	f := setup(t, st)
	dir := st.Directory
	if err := dir.Update(ctx, func(tx directory.Tx) error { return tx.DeleteUser(f.u1.ID) }); err != nil {
		t.Fatal(err)
	}
	if d, _ := st.Catalog.UserAssignments(ctx, f.app.ID, []string{f.u1.ID}); len(d) != 0 {
		t.Fatal("direct assignment survived the user's deletion")
	}
	if err := dir.Update(ctx, func(tx directory.Tx) error { return tx.DeleteGroup(f.g1.ID) }); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Catalog.GroupAssignment(ctx, f.app.ID, f.g1.ID); !errs.Is(err, errs.NotFound) {
		t.Fatalf("group assignment survived the group's deletion: %v", err)
	}
	users, _ := st.Catalog.AppUsers(ctx, catalog.AppUserQuery{AppID: f.app.ID, Limit: 10})
	if len(users) != 1 || users[0].ID != f.u2.ID {
		t.Fatalf("app users after deletions: %v", ids4(users))
	}
	update(t, st.Catalog, func(tx catalog.Tx) error {
		if err := tx.InsertAppKey(&catalog.KeyRecord{AppID: f.app.ID, Kid: "k", Certificate: []byte{1}, SealedKey: "s", Bits: 2048, Created: ms(time.Now()), ExpiresAt: ms(time.Now())}); err != nil {
			return err
		}
		return tx.DeleteApp(f.app.ID)
	})
	if k, _ := st.Catalog.AppKeys(ctx, f.app.ID); len(k) != 0 {
		t.Fatal("keys survived the app's deletion")
	}
	if g, _ := st.Catalog.GroupAssignments(ctx, f.app.ID, "", "", 10); len(g) != 0 {
		t.Fatal("group assignments survived the app's deletion")
	}
	if apps, _ := st.Catalog.Apps(ctx, catalog.AppQuery{UserID: f.u2.ID, Limit: 10}); len(apps) != 0 {
		t.Fatal("deleted app still listed for a user")
	}
	// The users and the other group are still there.
	if _, err := dir.User(ctx, f.u2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := dir.Group(ctx, f.g2.ID); err != nil {
		t.Fatal(err)
	}
}

func testRollback(t *testing.T, st Stores) {
	ctx := context.Background()
	a := newApp("org_rb_1", "RB", time.Now())
	boom := errors.New("boom")
	err := st.Catalog.Update(ctx, func(tx catalog.Tx) error {
		if err := tx.InsertApp(a); err != nil {
			return err
		}
		if err := tx.InsertAppKey(&catalog.KeyRecord{AppID: a.ID, Kid: "k", Certificate: []byte{1}, SealedKey: "s", Bits: 2048, Created: a.Created, ExpiresAt: a.Created}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("want the callback's error, got %v", err)
	}
	if _, err := st.Catalog.App(ctx, a.ID); !errs.Is(err, errs.NotFound) {
		t.Fatalf("rolled-back app exists: %v", err)
	}
	if k, _ := st.Catalog.AppKeys(ctx, a.ID); len(k) != 0 {
		t.Fatal("rolled-back key exists")
	}
}

// testGroupAppCounts: the apps of each group of a page are counted in one
// call, as GroupApps pages them, and follow unassignment and deletion.
func testGroupAppCounts(t *testing.T, st Stores) {
	ctx := context.Background()
	f := setup(t, st) // the app is assigned to g1 and g2
	other, g3 := newApp("org_f_2", "G", time.Now()), newGroup("Nobody")
	insertApps(t, st.Catalog, other)
	if err := st.Directory.Update(ctx, func(tx directory.Tx) error { return tx.InsertGroup(g3) }); err != nil {
		t.Fatal(err)
	}
	update(t, st.Catalog, func(tx catalog.Tx) error {
		return tx.PutAppGroup(&catalog.GroupAssignment{AppID: other.ID, GroupID: f.g1.ID, Priority: 0, Profile: map[string]any{}, LastUpdated: ms(time.Now())})
	})
	count := func(groupIDs ...string) map[string]int {
		t.Helper()
		n, err := st.Catalog.GroupAppCounts(ctx, groupIDs)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got, want := count(f.g1.ID, f.g2.ID, g3.ID, "00gNOPE0000000000000"), map[string]int{f.g1.ID: 2, f.g2.ID: 1}; !reflect.DeepEqual(got, want) {
		t.Fatalf("app counts %v, want %v", got, want)
	}
	for _, g := range []*directory.Group{f.g1, f.g2} {
		page, err := st.Catalog.GroupApps(ctx, g.ID, "", 10)
		if n := count(g.ID)[g.ID]; err != nil || n != len(page) {
			t.Fatalf("group %s: counted %d apps, GroupApps lists %d (%v)", g.Name, n, len(page), err)
		}
	}
	if got := count(); len(got) != 0 {
		t.Fatalf("no groups: %v", got)
	}
	update(t, st.Catalog, func(tx catalog.Tx) error {
		_, err := tx.DeleteAppGroup(f.app.ID, f.g1.ID)
		return err
	})
	if got, want := count(f.g1.ID, f.g2.ID), map[string]int{f.g1.ID: 1, f.g2.ID: 1}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after unassigning g1: %v, want %v", got, want)
	}
	update(t, st.Catalog, func(tx catalog.Tx) error { return tx.DeleteApp(other.ID) })
	if got, want := count(f.g1.ID, f.g2.ID), map[string]int{f.g2.ID: 1}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after deleting an app: %v, want %v", got, want)
	}
}
