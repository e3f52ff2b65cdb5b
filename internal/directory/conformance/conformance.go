// Package conformance is the test suite every implementation of
// directory.Store must pass. sqlstore runs it on SQLite and PostgreSQL.
package conformance

import (
	"context"
	"encoding/base64"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/filter"
	"github.com/gatehouse/gatehouse/internal/ids"
)

// Run runs the suite; newStore returns an empty store for each subtest.
func Run(t *testing.T, newStore func(t *testing.T) directory.Store) {
	t.Run("UserRoundTrip", func(t *testing.T) { testUserRoundTrip(t, newStore(t)) })
	t.Run("DuplicateLogin", func(t *testing.T) { testDuplicateLogin(t, newStore(t)) })
	t.Run("VersionConflict", func(t *testing.T) { testVersionConflict(t, newStore(t)) })
	t.Run("ConcurrentUpdates", func(t *testing.T) { testConcurrentUpdates(t, newStore(t)) })
	t.Run("RollbackLeavesNothing", func(t *testing.T) { testRollback(t, newStore(t)) })
	t.Run("ListPagingAndFilters", func(t *testing.T) { testList(t, newStore(t)) })
	t.Run("SearchPagingByKey", func(t *testing.T) { testSearchPaging(t, newStore(t)) })
	t.Run("Groups", func(t *testing.T) { testGroups(t, newStore(t)) })
	t.Run("GroupsSortedAndPaged", func(t *testing.T) { testGroupSort(t, newStore(t)) })
	t.Run("GroupMemberCounts", func(t *testing.T) { testGroupMemberCounts(t, newStore(t)) })
	t.Run("UniqueAttributes", func(t *testing.T) { testUnique(t, newStore(t)) })
	t.Run("Schema", func(t *testing.T) { testSchema(t, newStore(t)) })
	t.Run("SignInCounters", func(t *testing.T) { testSignInCounters(t, newStore(t)) })
}

var src = ids.NewSource(nil)

func newUser(login string, at time.Time) *directory.User {
	return &directory.User{
		ID: src.New(ids.User), Status: directory.Active, Created: at, LastUpdated: at,
		Profile: directory.Profile{"login": login, "email": login, "firstName": "First" + login[:1], "lastName": "Last", "department": "dept-" + login[:1]},
	}
}

func event(kind string) audit.Event {
	return audit.Event{UUID: src.New(ids.Event), Published: time.Now().UTC(), EventType: kind, Severity: audit.Info, Outcome: audit.Outcome{Result: audit.Success}}
}

func insert(t *testing.T, s directory.Store, users ...*directory.User) {
	t.Helper()
	err := s.Update(context.Background(), func(tx directory.Tx) error {
		for _, u := range users {
			if err := tx.InsertUser(u); err != nil {
				return err
			}
			if err := tx.Append(event("user.lifecycle.create")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("insert: %v", err)
	}
}

func testUserRoundTrip(t *testing.T, s directory.Store) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	u := newUser("ana@example.com", now)
	u.Credentials.PasswordHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"
	u.Profile["costCenter"] = "42"
	u.Profile["score"] = float64(7)
	insert(t, s, u)
	for _, key := range []string{u.ID, "ana@example.com", "ANA@Example.com"} {
		got, err := s.User(ctx, key)
		if err != nil {
			t.Fatalf("User(%q): %v", key, err)
		}
		if got.ID != u.ID || got.Login() != "ana@example.com" || got.Profile["score"] != float64(7) ||
			got.Credentials.PasswordHash != u.Credentials.PasswordHash || !got.Created.Equal(now) || got.Version != 1 {
			t.Fatalf("round trip mismatch: %+v", got)
		}
	}
	if _, err := s.User(ctx, "nobody@example.com"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("missing user: want NotFound, got %v", err)
	}
}

func testDuplicateLogin(t *testing.T, s directory.Store) {
	now := time.Now().UTC()
	insert(t, s, newUser("dup@example.com", now))
	err := s.Update(context.Background(), func(tx directory.Tx) error {
		return tx.InsertUser(newUser("DUP@example.com", now))
	})
	e, ok := errs.As(err)
	if !ok || e.Kind != errs.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != "login" {
		t.Fatalf("duplicate login: want Invalid on login, got %v", err)
	}
}

func testVersionConflict(t *testing.T, s directory.Store) {
	u := newUser("ver@example.com", time.Now().UTC())
	insert(t, s, u)
	stale := *u
	err := s.Update(context.Background(), func(tx directory.Tx) error {
		u.Profile["title"] = "first"
		return tx.UpdateUser(u)
	})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Update(context.Background(), func(tx directory.Tx) error {
		stale.Profile = directory.Profile{"login": "ver@example.com", "title": "stale"}
		return tx.UpdateUser(&stale)
	})
	if !errs.Is(err, errs.Conflict) {
		t.Fatalf("stale write: want Conflict, got %v", err)
	}
	got, _ := s.User(context.Background(), u.ID)
	if got.Profile.String("title") != "first" || got.Version != 2 {
		t.Fatalf("stale write changed the user: %+v", got)
	}
}

// testConcurrentUpdates increments a counter from many goroutines with
// read-lock-write transactions; no increment may be lost.
func testConcurrentUpdates(t *testing.T, s directory.Store) {
	u := newUser("count@example.com", time.Now().UTC())
	u.Profile["counter"] = float64(0)
	insert(t, s, u)
	const workers, each = 8, 5
	var wg sync.WaitGroup
	errc := make(chan error, workers*each)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				errc <- s.Update(context.Background(), func(tx directory.Tx) error {
					x, err := tx.UserForUpdate(u.ID)
					if err != nil {
						return err
					}
					x.Profile["counter"] = x.Profile["counter"].(float64) + 1
					if err := tx.UpdateUser(x); err != nil {
						return err
					}
					return tx.Append(event("user.account.update_profile"))
				})
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatalf("concurrent update: %v", err)
		}
	}
	got, _ := s.User(context.Background(), u.ID)
	if got.Profile["counter"] != float64(workers*each) || got.Version != workers*each+1 {
		t.Fatalf("lost updates: counter=%v version=%d", got.Profile["counter"], got.Version)
	}
}

// testSearchPaging walks a People search (q, no filter) page by page with
// every page size from 1 to 9: the pages hold each match exactly once
// (also a person matching in two or four keys), in the order of the
// smallest matching key, then id, wherever the matches sit in id order.
func testSearchPaging(t *testing.T, s directory.Store) {
	ctx := context.Background()
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	person := func(login, email, first, last string) *directory.User {
		u := newUser(login, at)
		u.Profile["email"], u.Profile["firstName"], u.Profile["lastName"] = email, first, last
		return u
	}
	var all []*directory.User
	for i := 0; i < 6; i++ { // login and email the same key: one entry, not two
		all = append(all, person(fmt.Sprintf("kay%d@example.com", i), fmt.Sprintf("kay%d@example.com", i), "Zed", "Zed"))
	}
	for i := 0; i < 4; i++ { // a first name shared by several: ties broken by id
		all = append(all, person(fmt.Sprintf("x%d@example.com", i), fmt.Sprintf("x%d@example.com", i), "Kate", "Other"))
	}
	all = append(all,
		person("a1@example.com", "a1@example.com", "Kappa", "Kaa"),         // two names: Kaa first, not again as Kappa
		person("a2@example.com", "a2@example.com", "Kz", "Kb"),             // last name before first name
		person("kzz@example.com", "kal@example.com", "Kim", "Kyle"),        // all four keys match, email smallest
		person("b1@example.com", "KAYAK@EXAMPLE.COM", "Bo", "Bo"),          // email in capitals
		person("ka@example.com", "c1@example.com", "Ka", "Ka"),             // login "ka@…" after first name "ka"
		person("nomatch@example.com", "nomatch@example.com", "Al", "Bert"), // no key matches
	)
	gone := person("kaput@example.com", "kaput@example.com", "Kaput", "Kaput")
	gone.Status = directory.Deprovisioned
	all = append(all, gone)
	// Insert in an order unrelated to the keys (ids grow with insertion).
	for i := len(all) - 1; i >= 0; i-- {
		insert(t, s, all[i])
	}

	lower := func(v string) string { return strings.ToLower(v) }
	want := func(includeDeprov bool) []string {
		type e struct{ key, id string }
		var es []e
		for _, u := range all {
			if u.Status == directory.Deprovisioned && !includeDeprov {
				continue
			}
			key := ""
			for _, a := range []string{"login", "email", "firstName", "lastName"} {
				if k := lower(u.Profile.String(a)); strings.HasPrefix(k, "k") && (key == "" || k < key) {
					key = k
				}
			}
			if key != "" {
				es = append(es, e{key, u.ID})
			}
		}
		sort.Slice(es, func(i, j int) bool {
			if es[i].key != es[j].key {
				return es[i].key < es[j].key
			}
			return es[i].id < es[j].id
		})
		var out []string
		for _, x := range es {
			out = append(out, x.id)
		}
		return out
	}
	walk := func(q directory.UserQuery, limit int, bare bool) []string {
		t.Helper()
		var out []string
		q.Limit = limit
		for pages := 0; pages < 100; pages++ {
			page, err := s.Users(ctx, q)
			if err != nil {
				t.Fatalf("search %+v: %v", q, err)
			}
			for _, u := range page {
				out = append(out, u.ID)
			}
			if len(page) < limit {
				return out
			}
			q.After = directory.Cursor(page[len(page)-1])
			if bare {
				q.After = page[len(page)-1].ID // a link from before keyed search
			}
		}
		t.Fatal("search paging does not end")
		return nil
	}
	for _, deprov := range []bool{false, true} {
		w := want(deprov)
		if len(w) != 15+btoi(deprov) {
			t.Fatalf("the fixture matches %d people, want %d", len(w), 15+btoi(deprov))
		}
		for limit := 1; limit <= 9; limit++ {
			for _, bare := range []bool{false, true} {
				got := walk(directory.UserQuery{Q: "K", IncludeDeprovisioned: deprov}, limit, bare)
				if fmt.Sprint(got) != fmt.Sprint(w) {
					t.Fatalf("deprovisioned %v, pages of %d (bare cursor %v):\n got %v\nwant %v", deprov, limit, bare, got, w)
				}
			}
		}
	}
	// A longer prefix narrows the same way: "ka" matches in every key.
	if got := walk(directory.UserQuery{Q: "ka"}, 2, false); len(got) != 14 {
		t.Errorf(`search "ka": %d people, want 14`, len(got))
	}

	// The cursor carries its key: the page after a person deleted since
	// continues where it would have, with no gap.
	w := want(false)
	first, err := s.Users(ctx, directory.UserQuery{Q: "k", Limit: 5})
	if err != nil || len(first) != 5 {
		t.Fatalf("first page: %d, %v", len(first), err)
	}
	if err := s.Update(ctx, func(tx directory.Tx) error { return tx.DeleteUser(first[4].ID) }); err != nil {
		t.Fatal(err)
	}
	rest, err := s.Users(ctx, directory.UserQuery{Q: "k", Limit: 100, After: directory.Cursor(first[4])})
	if err != nil {
		t.Fatal(err)
	}
	var restIDs []string
	for _, u := range rest {
		restIDs = append(restIDs, u.ID)
	}
	if fmt.Sprint(restIDs) != fmt.Sprint(w[5:]) {
		t.Fatalf("after a deleted cursor person:\n got %v\nwant %v", restIDs, w[5:])
	}
	// A cursor key made up by hand is kept to the matches: before them
	// the walk starts at the first, after them it has nothing.
	enc := func(key string) string { return "00u." + base64.RawURLEncoding.EncodeToString([]byte(key)) }
	if page, err := s.Users(ctx, directory.UserQuery{Q: "k", Limit: 100, After: enc("a")}); err != nil || len(page) != len(w)-1 {
		t.Errorf("cursor key before the prefix: %d users, %v; want all %d left", len(page), err, len(w)-1)
	}
	if page, err := s.Users(ctx, directory.UserQuery{Q: "k", Limit: 100, After: enc("l")}); err != nil || len(page) != 0 {
		t.Errorf("cursor key after the prefix: %d users, %v; want none", len(page), err)
	}
	// A cursor that is not one (bad encoding, NUL) gives an empty page,
	// never an error from the database.
	for _, bad := range []string{"00unope.!!", "00unope", "a\x00b", "00u." + "AA"} {
		if page, err := s.Users(ctx, directory.UserQuery{Q: "k", Limit: 5, After: bad}); err != nil || len(page) != 0 {
			t.Errorf("after %q: %d users, %v; want none", bad, len(page), err)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func testRollback(t *testing.T, s directory.Store) {
	u := newUser("rb@example.com", time.Now().UTC())
	boom := fmt.Errorf("boom")
	err := s.Update(context.Background(), func(tx directory.Tx) error {
		if err := tx.InsertUser(u); err != nil {
			return err
		}
		return boom
	})
	if err != boom {
		t.Fatalf("want the callback's error, got %v", err)
	}
	if _, err := s.User(context.Background(), u.ID); !errs.Is(err, errs.NotFound) {
		t.Fatalf("rolled-back user exists: %v", err)
	}
}

func testList(t *testing.T, s directory.Store) {
	ctx := context.Background()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var all []*directory.User
	for i := 0; i < 25; i++ {
		u := newUser(fmt.Sprintf("%c%02d@example.com", 'a'+i%3, i), base.Add(time.Duration(i)*time.Hour))
		if i%5 == 0 {
			u.Status = directory.Suspended
		}
		if i == 24 {
			u.Status = directory.Deprovisioned
		}
		all = append(all, u)
	}
	insert(t, s, all...)
	// Paging covers every non-deprovisioned user exactly once, in id order.
	seen := map[string]bool{}
	after := ""
	for pages := 0; ; pages++ {
		page, err := s.Users(ctx, directory.UserQuery{After: after, Limit: 7})
		if err != nil {
			t.Fatal(err)
		}
		for i, u := range page {
			if seen[u.ID] {
				t.Fatalf("user %s twice", u.ID)
			}
			if i > 0 && page[i-1].ID >= u.ID {
				t.Fatal("page not in id order")
			}
			seen[u.ID] = true
		}
		if len(page) < 7 {
			break
		}
		after = page[len(page)-1].ID
	}
	if len(seen) != 24 {
		t.Fatalf("paging saw %d users, want 24", len(seen))
	}
	count := func(q directory.UserQuery) int {
		t.Helper()
		q.Limit = 100
		us, err := s.Users(ctx, q)
		if err != nil {
			t.Fatalf("query %+v: %v", q, err)
		}
		return len(us)
	}
	str := filter.StringValue
	cases := []struct {
		name string
		q    directory.UserQuery
		want int
	}{
		{"status eq", directory.UserQuery{Filter: &filter.Compare{Attr: "status", Op: filter.OpEq, Value: str("SUSPENDED")}}, 5},
		{"deprovisioned by filter", directory.UserQuery{Filter: &filter.Compare{Attr: "status", Op: filter.OpEq, Value: str("DEPROVISIONED")}}, 1},
		{"lastUpdated gt", directory.UserQuery{Filter: &filter.Compare{Attr: "lastUpdated", Op: filter.OpGt, Value: str("2026-01-01T19:30:00.000Z")}}, 5},
		{"login eq any case", directory.UserQuery{Filter: &filter.Compare{Attr: "profile.login", Op: filter.OpEq, Value: str("B01@EXAMPLE.COM")}}, 1},
		{"or", directory.UserQuery{Filter: &filter.Logical{Op: filter.Or,
			Left:  &filter.Compare{Attr: "profile.login", Op: filter.OpEq, Value: str("a00@example.com")},
			Right: &filter.Compare{Attr: "profile.login", Op: filter.OpEq, Value: str("b01@example.com")}}}, 2},
		{"and", directory.UserQuery{Filter: &filter.Logical{Op: filter.And,
			Left:  &filter.Compare{Attr: "status", Op: filter.OpEq, Value: str("ACTIVE")},
			Right: &filter.Compare{Attr: "profile.firstName", Op: filter.OpEq, Value: str("Firsta")}}}, 6},
		{"search custom attribute", directory.UserQuery{Search: &filter.Compare{Attr: "profile.department", Op: filter.OpEq, Value: str("dept-c")}}, 8},
		{"search sw", directory.UserQuery{Search: &filter.Compare{Attr: "profile.email", Op: filter.OpSw, Value: str("c0")}}, 3},
		{"search not", directory.UserQuery{Search: &filter.Not{X: &filter.Compare{Attr: "status", Op: filter.OpEq, Value: str("ACTIVE")}}}, 6},
		{"search present", directory.UserQuery{Search: &filter.Present{Attr: "profile.department"}}, 25},
		{"q prefix", directory.UserQuery{Q: "B0"}, 3},
		{"q first name", directory.UserQuery{Q: "firstc"}, 8},
	}
	for _, c := range cases {
		if got := count(c.q); got != c.want {
			t.Errorf("%s: got %d users, want %d", c.name, got, c.want)
		}
	}

	// Sorted searches page by the sort key, then id, in either direction.
	sorted := func(q directory.UserQuery, limit int) []*directory.User {
		t.Helper()
		var out []*directory.User
		q.Limit = limit
		for pages := 0; pages < 50; pages++ {
			page, err := s.Users(ctx, q)
			if err != nil {
				t.Fatalf("sorted query %+v: %v", q, err)
			}
			out = append(out, page...)
			if len(page) < limit {
				return out
			}
			q.After = page[len(page)-1].ID
		}
		t.Fatal("sorted paging does not end")
		return nil
	}
	present := &filter.Present{Attr: "profile.department"}
	byDept := sorted(directory.UserQuery{Search: present, SortBy: "profile.department"}, 4)
	if len(byDept) != 25 {
		t.Fatalf("sorted by department: %d users, want 25", len(byDept))
	}
	for i := 1; i < len(byDept); i++ {
		a, b := byDept[i-1].Profile["department"].(string), byDept[i].Profile["department"].(string)
		if a > b || a == b && byDept[i-1].ID >= byDept[i].ID {
			t.Fatalf("sorted by department: %s/%s before %s/%s", a, byDept[i-1].ID, b, byDept[i].ID)
		}
	}
	newest := sorted(directory.UserQuery{Search: present, SortBy: "created", SortDesc: true}, 6)
	if len(newest) != 25 || newest[0].ID != all[24].ID || newest[24].ID != all[0].ID {
		t.Fatalf("sorted by created, descending: %d users, first %s", len(newest), newest[0].ID)
	}
	for i := 1; i < len(newest); i++ {
		if !newest[i-1].Created.After(newest[i].Created) {
			t.Fatalf("sorted by created, descending: %v before %v", newest[i-1].Created, newest[i].Created)
		}
	}
	if _, err := s.Users(ctx, directory.UserQuery{Search: present, SortBy: "credentials.password", Limit: 5}); !errs.Is(err, errs.Invalid) {
		t.Fatalf("sorting by an unknown attribute: %v, want Invalid", err)
	}
}

func testGroups(t *testing.T, s directory.Store) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	u1, u2 := newUser("g1@example.com", now), newUser("g2@example.com", now)
	insert(t, s, u1, u2)
	g := &directory.Group{ID: src.New(ids.Group), Type: "OKTA_GROUP", Name: "Agents", Description: "Contact center", Created: now, LastUpdated: now, LastMembershipUpdated: now}
	err := s.Update(ctx, func(tx directory.Tx) error {
		if err := tx.InsertGroup(g); err != nil {
			return err
		}
		for _, u := range []*directory.User{u1, u2, u1} {
			if _, err := tx.AddMember(g.ID, u.ID, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	members, err := s.GroupMembers(ctx, g.ID, "", 10)
	if err != nil || len(members) != 2 {
		t.Fatalf("members: %v %d", err, len(members))
	}
	gs, err := s.UserGroups(ctx, u1.ID)
	if err != nil || len(gs) != 1 || gs[0].Name != "Agents" {
		t.Fatalf("user groups: %v %+v", err, gs)
	}
	found, err := s.Groups(ctx, directory.GroupQuery{Q: "age", Limit: 10})
	if err != nil || len(found) != 1 {
		t.Fatalf("group q: %v %d", err, len(found))
	}
	var removed bool
	s.Update(ctx, func(tx directory.Tx) error {
		removed, err = tx.RemoveMember(g.ID, u2.ID, now)
		return err
	})
	if !removed {
		t.Fatal("remove member reported nothing removed")
	}
	if err := s.Update(ctx, func(tx directory.Tx) error { return tx.DeleteUser(u1.ID) }); err != nil {
		t.Fatal(err)
	}
	members, _ = s.GroupMembers(ctx, g.ID, "", 10)
	if len(members) != 0 {
		t.Fatalf("memberships survived user deletion: %d", len(members))
	}
	if err := s.Update(ctx, func(tx directory.Tx) error { return tx.DeleteGroup(g.ID) }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Group(ctx, g.ID); !errs.Is(err, errs.NotFound) {
		t.Fatalf("deleted group: %v", err)
	}
}

func testUnique(t *testing.T, s directory.Store) {
	ctx := context.Background()
	u1, u2 := newUser("u1@example.com", time.Now().UTC()), newUser("u2@example.com", time.Now().UTC())
	insert(t, s, u1, u2)
	if err := s.Update(ctx, func(tx directory.Tx) error { return tx.SetUnique(u1.ID, map[string]string{"employeeId": "e-1"}) }); err != nil {
		t.Fatal(err)
	}
	err := s.Update(ctx, func(tx directory.Tx) error { return tx.SetUnique(u2.ID, map[string]string{"employeeId": "e-1"}) })
	if e, ok := errs.As(err); !ok || e.Kind != errs.Invalid || e.Fields[0].Field != "employeeId" {
		t.Fatalf("unique clash: %v", err)
	}
	// Changing one's own value is fine.
	if err := s.Update(ctx, func(tx directory.Tx) error { return tx.SetUnique(u1.ID, map[string]string{"employeeId": "e-2"}) }); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(tx directory.Tx) error { return tx.SetUnique(u2.ID, map[string]string{"employeeId": "e-1"}) }); err != nil {
		t.Fatalf("freed value not reusable: %v", err)
	}
}

func testSchema(t *testing.T, s directory.Store) {
	ctx := context.Background()
	sc, err := s.Schema(ctx)
	if err != nil || len(sc.Custom) != 0 {
		t.Fatalf("empty schema: %v %+v", err, sc)
	}
	want := &directory.Schema{Custom: []directory.Attribute{{Name: "employeeId", Title: "Employee ID", Type: "string", Unique: true}}}
	if err := s.Update(ctx, func(tx directory.Tx) error { return tx.SaveSchema(want) }); err != nil {
		t.Fatal(err)
	}
	got, err := s.Schema(ctx)
	if err != nil || len(got.Custom) != 1 || !got.Custom[0].Unique || got.Custom[0].Title != "Employee ID" {
		t.Fatalf("schema round trip: %v %+v", err, got)
	}
}

// testSignInCounters: failures count up by login (any case), a recorded
// sign-in resets them and sets the time without touching the rest of the
// row, and a stale version is refused.
func testSignInCounters(t *testing.T, s directory.Store) {
	ctx := context.Background()
	created := time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond)
	u := newUser("counter@example.com", created)
	u.Profile["title"] = "Agent"
	insert(t, s, u)
	for _, login := range []string{"counter@example.com", "COUNTER@example.com", "nobody@example.com"} {
		if err := s.Update(ctx, func(tx directory.Tx) error { return tx.CountFailedSignIn(login) }); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.User(ctx, u.ID)
	if err != nil || got.FailedLogins != 2 || got.Version != 3 {
		t.Fatalf("after two failures: %+v, %v", got, err)
	}
	at := time.Now().UTC().Truncate(time.Millisecond)
	err = s.Update(ctx, func(tx directory.Tx) error {
		v, err := tx.UserForUpdate(u.ID)
		if err != nil {
			return err
		}
		v.LastLogin = &at
		return tx.RecordSignIn(v)
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err = s.User(ctx, u.ID)
	if err != nil || got.FailedLogins != 0 || got.LastLogin == nil || !got.LastLogin.Equal(at) || got.Version != 4 ||
		!got.LastUpdated.Equal(created) || got.Profile.String("title") != "Agent" || got.Status != directory.Active {
		t.Fatalf("after a recorded sign-in: %+v, %v", got, err)
	}
	for _, key := range []string{u.ID, "COUNTER@example.com"} {
		if h, err := s.PasswordHash(ctx, key); err != nil || h != "" {
			t.Fatalf("PasswordHash(%s) of a user without a password: %q, %v", key, h, err)
		}
	}
	withPw := newUser("hashed@example.com", created)
	withPw.Credentials.PasswordHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"
	insert(t, s, withPw)
	for _, key := range []string{withPw.ID, "Hashed@Example.com"} {
		if h, err := s.PasswordHash(ctx, key); err != nil || h != withPw.Credentials.PasswordHash {
			t.Fatalf("PasswordHash(%s): %q, %v", key, h, err)
		}
	}
	if _, err := s.PasswordHash(ctx, "nobody@example.com"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("PasswordHash of nobody: want NotFound, got %v", err)
	}
	stale := *got
	stale.Version = 3
	err = s.Update(ctx, func(tx directory.Tx) error { return tx.RecordSignIn(&stale) })
	if !errs.Is(err, errs.Conflict) {
		t.Fatalf("stale sign-in record: want Conflict, got %v", err)
	}
}

// testGroupSort pages groups in the order of a sort key, ascending and
// descending, ties broken by id, with the cursor continuing after the
// cursor group's position.
func testGroupSort(t *testing.T, s directory.Store) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	// Names out of id order, two of them equal but for case (a tie).
	names := []string{"delta", "Alpha", "charlie", "alpha", "Bravo"}
	var gs []*directory.Group
	err := s.Update(ctx, func(tx directory.Tx) error {
		for i, n := range names {
			g := &directory.Group{ID: src.New(ids.Group), Type: "OKTA_GROUP", Name: n, Created: now.Add(time.Duration(len(names)-i) * time.Second),
				LastUpdated: now, LastMembershipUpdated: now}
			if err := tx.InsertGroup(g); err != nil {
				return err
			}
			gs = append(gs, g)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	page := func(q directory.GroupQuery) []string {
		t.Helper()
		var out []string
		for {
			got, err := s.Groups(ctx, q)
			if err != nil {
				t.Fatalf("groups %+v: %v", q, err)
			}
			for _, g := range got {
				out = append(out, g.Name)
			}
			if len(got) < q.Limit {
				return out
			}
			q.After = got[len(got)-1].ID
		}
	}
	// The two alphas tie on the case-folded name: id order between them.
	alphas := []string{"Alpha", "alpha"}
	if gs[3].ID < gs[1].ID {
		alphas = []string{"alpha", "Alpha"}
	}
	want := append(append([]string{}, alphas...), "Bravo", "charlie", "delta")
	if got := page(directory.GroupQuery{SortBy: "profile.name", Limit: 2}); !reflect.DeepEqual(got, want) {
		t.Fatalf("by name: %v, want %v", got, want)
	}
	desc := []string{"delta", "charlie", "Bravo", alphas[1], alphas[0]}
	if got := page(directory.GroupQuery{SortBy: "profile.name", SortDesc: true, Limit: 2}); !reflect.DeepEqual(got, desc) {
		t.Fatalf("by name, descending: %v, want %v", got, desc)
	}
	// created runs opposite to the insertion order.
	if got := page(directory.GroupQuery{SortBy: "created", Limit: 3}); !reflect.DeepEqual(got, []string{"Bravo", "alpha", "charlie", "Alpha", "delta"}) {
		t.Fatalf("by created: %v", got)
	}
	var byID []string
	for _, g := range gs {
		byID = append(byID, g.ID)
	}
	slices.Sort(byID)
	idsOf := func(q directory.GroupQuery) []string {
		got, err := s.Groups(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		out := make([]string, len(got))
		for i, g := range got {
			out[i] = g.ID
		}
		return out
	}
	if got := idsOf(directory.GroupQuery{SortDesc: true, Limit: 10}); !reflect.DeepEqual(got, []string{byID[4], byID[3], byID[2], byID[1], byID[0]}) {
		t.Fatalf("by id, descending: %v", got)
	}
	if got := idsOf(directory.GroupQuery{SortBy: "id", SortDesc: true, After: byID[2], Limit: 10}); !reflect.DeepEqual(got, []string{byID[1], byID[0]}) {
		t.Fatalf("by id, descending, after the middle: %v", got)
	}
	if _, err := s.Groups(ctx, directory.GroupQuery{SortBy: "profile.colour", Limit: 10}); !errs.Is(err, errs.Invalid) {
		t.Fatalf("sort by an unknown attribute: %v", err)
	}
}

// testGroupMemberCounts: the members of each group of a page are counted
// in one call, whatever their status, as GroupMembers lists them, and the
// counts follow removals and deletions.
func testGroupMemberCounts(t *testing.T, s directory.Store) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	u1, u2, u3 := newUser("c1@example.com", now), newUser("c2@example.com", now), newUser("c3@example.com", now)
	u3.Status = directory.Deprovisioned
	insert(t, s, u1, u2, u3)
	var gs []*directory.Group
	for _, name := range []string{"Agents", "Supervisors", "Empty"} {
		gs = append(gs, &directory.Group{ID: src.New(ids.Group), Type: "OKTA_GROUP", Name: name, Created: now, LastUpdated: now, LastMembershipUpdated: now})
	}
	err := s.Update(ctx, func(tx directory.Tx) error {
		for _, g := range gs {
			if err := tx.InsertGroup(g); err != nil {
				return err
			}
		}
		for _, m := range [][2]string{{gs[0].ID, u1.ID}, {gs[0].ID, u2.ID}, {gs[0].ID, u3.ID}, {gs[1].ID, u2.ID}} {
			if _, err := tx.AddMember(m[0], m[1], now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	count := func(groupIDs ...string) map[string]int {
		t.Helper()
		n, err := s.GroupMemberCounts(ctx, groupIDs)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got, want := count(gs[0].ID, gs[1].ID, gs[2].ID, "00gNOPE0000000000000"), map[string]int{gs[0].ID: 3, gs[1].ID: 1}; !reflect.DeepEqual(got, want) {
		t.Fatalf("member counts %v, want %v", got, want)
	}
	for _, g := range gs {
		members, err := s.GroupMembers(ctx, g.ID, "", 10)
		if n := count(g.ID)[g.ID]; err != nil || n != len(members) {
			t.Fatalf("group %s: counted %d members, GroupMembers lists %d (%v)", g.Name, n, len(members), err)
		}
	}
	if got := count(); len(got) != 0 {
		t.Fatalf("no groups: %v", got)
	}
	// Many groups are still one call (in two queries past 10,000 ids).
	many := []string{gs[1].ID}
	for i := 0; i < 10001; i++ { // past one query's 10,000 ids
		many = append(many, fmt.Sprintf("00gNOPE%013d", i))
	}
	if got := count(many...); !reflect.DeepEqual(got, map[string]int{gs[1].ID: 1}) {
		t.Fatalf("counts among 10,002 ids: %v", got)
	}
	err = s.Update(ctx, func(tx directory.Tx) error {
		if _, err := tx.RemoveMember(gs[0].ID, u1.ID, now); err != nil {
			return err
		}
		return tx.DeleteUser(u2.ID)
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := count(gs[0].ID, gs[1].ID), map[string]int{gs[0].ID: 1}; !reflect.DeepEqual(got, want) {
		t.Fatalf("after a removal and a deletion: %v, want %v", got, want)
	}
}
