// Package conformance is the test suite every implementation of
// grouprule.Store must pass. sqlstore runs it on SQLite and PostgreSQL.
package conformance

import (
	"context"
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/grouprule"
	"github.com/gatehouse/gatehouse/internal/ids"
)

// Run runs the suite; newStore returns an empty store for each subtest.
func Run(t *testing.T, newStore func(t *testing.T) grouprule.Store) {
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, newStore(t)) })
	t.Run("NamesUnique", func(t *testing.T) { testNamesUnique(t, newStore(t)) })
	t.Run("SearchAndPaging", func(t *testing.T) { testSearch(t, newStore(t)) })
	t.Run("ManagedMemberships", func(t *testing.T) { testManaged(t, newStore(t)) })
	t.Run("ManagedCascades", func(t *testing.T) { testCascades(t, newStore(t)) })
	t.Run("Rollback", func(t *testing.T) { testRollback(t, newStore(t)) })
}

var src = ids.NewSource(nil)

func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

func newRule(name string, groups ...string) *grouprule.Rule {
	at := now()
	return &grouprule.Rule{ID: src.NewOrdered(ids.Rule, at), Name: name, Status: grouprule.Inactive, Expression: `user.department == "Sales"`,
		GroupIDs: groups, ExcludeUserIDs: []string{}, Created: at, LastUpdated: at}
}

func update(t *testing.T, s grouprule.Store, fn func(tx grouprule.Tx) error) {
	t.Helper()
	if err := s.Update(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

func insertRule(t *testing.T, s grouprule.Store, r *grouprule.Rule) {
	t.Helper()
	update(t, s, func(tx grouprule.Tx) error { return tx.InsertGroupRule(r) })
}

func newGroup(t *testing.T, s grouprule.Store, name string) *directory.Group {
	t.Helper()
	at := now()
	g := &directory.Group{ID: src.New(ids.Group), Type: "OKTA_GROUP", Name: name, Created: at, LastUpdated: at, LastMembershipUpdated: at}
	update(t, s, func(tx grouprule.Tx) error { return tx.InsertGroup(g) })
	return g
}

func newUser(t *testing.T, s grouprule.Store, login string) *directory.User {
	t.Helper()
	at := now()
	u := &directory.User{ID: src.NewOrdered(ids.User, at), Status: directory.Active, Created: at, LastUpdated: at,
		Profile: directory.Profile{"login": login, "email": login, "firstName": "F", "lastName": "L"}}
	update(t, s, func(tx grouprule.Tx) error { return tx.InsertUser(u) })
	return u
}

func testRoundTrip(t *testing.T, s grouprule.Store) {
	ctx := context.Background()
	g1, g2 := newGroup(t, s, "Sales"), newGroup(t, s, "Everyone in sales")
	u := newUser(t, s, "ex@example.com")
	r := newRule("Sales people", g1.ID, g2.ID)
	r.ExcludeUserIDs = []string{u.ID}
	insertRule(t, s, r)
	got, err := s.Rule(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Fatalf("read back %+v, want %+v", got, r)
	}
	if _, err := s.Rule(ctx, "0prnothere"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("unknown rule: %v", err)
	}
	// Update: status, name, exclusions and the activation pass's cursor.
	r.Status, r.Name, r.ExcludeUserIDs, r.Evaluating, r.EvalAfter = grouprule.Active, "Sales staff", []string{}, true, u.ID
	r.LastUpdated = r.LastUpdated.Add(time.Second)
	update(t, s, func(tx grouprule.Tx) error {
		locked, err := tx.GroupRuleForUpdate(r.ID)
		if err != nil || locked.Name != "Sales people" {
			t.Errorf("GroupRuleForUpdate: %v %v", locked, err)
		}
		return tx.UpdateGroupRule(r)
	})
	if got, _ = s.Rule(ctx, r.ID); !reflect.DeepEqual(got, r) {
		t.Fatalf("after update %+v, want %+v", got, r)
	}
	ev, err := s.Evaluating(ctx)
	if err != nil || len(ev) != 1 || ev[0].ID != r.ID {
		t.Fatalf("Evaluating: %v %v", ev, err)
	}
	other := newRule("Other", g2.ID)
	insertRule(t, s, other)
	update(t, s, func(tx grouprule.Tx) error {
		act, err := tx.GroupRulesByStatus(grouprule.Active)
		if err != nil || len(act) != 1 || act[0].ID != r.ID {
			t.Errorf("active rules: %v %v", act, err)
		}
		tg, err := tx.GroupRulesTargeting(g2.ID)
		if err != nil || len(tg) != 2 {
			t.Errorf("rules targeting %s: %v %v", g2.Name, tg, err)
		}
		if tg, _ := tx.GroupRulesTargeting(g1.ID); len(tg) != 1 || tg[0].ID != r.ID {
			t.Errorf("rules targeting %s: %v", g1.Name, tg)
		}
		return nil
	})
	update(t, s, func(tx grouprule.Tx) error { return tx.DeleteGroupRule(r.ID) })
	if _, err := s.Rule(ctx, r.ID); !errs.Is(err, errs.NotFound) {
		t.Fatalf("deleted rule: %v", err)
	}
	err = s.Update(ctx, func(tx grouprule.Tx) error { return tx.DeleteGroupRule(r.ID) })
	if !errs.Is(err, errs.NotFound) {
		t.Fatalf("second delete: %v", err)
	}
	update(t, s, func(tx grouprule.Tx) error {
		if tg, _ := tx.GroupRulesTargeting(g1.ID); len(tg) != 0 {
			t.Errorf("a deleted rule still targets %s: %v", g1.Name, tg)
		}
		return nil
	})
}

func testNamesUnique(t *testing.T, s grouprule.Store) {
	ctx := context.Background()
	g := newGroup(t, s, "G")
	a := newRule("Engineering", g.ID)
	insertRule(t, s, a)
	err := s.Update(ctx, func(tx grouprule.Tx) error { return tx.InsertGroupRule(newRule("ENGINEERING", g.ID)) })
	if !errs.Is(err, errs.Conflict) {
		t.Fatalf("same name in other case: %v", err)
	}
	b := newRule("Support", g.ID)
	insertRule(t, s, b)
	b.Name = "engineering"
	if err := s.Update(ctx, func(tx grouprule.Tx) error { return tx.UpdateGroupRule(b) }); !errs.Is(err, errs.Conflict) {
		t.Fatalf("rename onto a taken name: %v", err)
	}
	// Renaming a rule to its own name in another case is no conflict.
	a.Name = "ENGINEERING"
	update(t, s, func(tx grouprule.Tx) error { return tx.UpdateGroupRule(a) })
}

func testSearch(t *testing.T, s grouprule.Store) {
	ctx := context.Background()
	g := newGroup(t, s, "G")
	var all []string
	byID := map[string]string{}
	for _, n := range []string{"Sales EMEA", "sales US", "Support", "Salesforce admins", "100% remote"} {
		r := newRule(n, g.ID)
		insertRule(t, s, r)
		all = append(all, r.ID)
		byID[r.ID] = n
	}
	sort.Strings(all) // rules are listed in id order, compared as bytes
	var sales []string
	for _, id := range all {
		if strings.HasPrefix(strings.ToLower(byID[id]), "sales") {
			sales = append(sales, byID[id])
		}
	}
	names := func(rs []*grouprule.Rule) []string {
		out := []string{}
		for _, r := range rs {
			out = append(out, r.Name)
		}
		return out
	}
	got, err := s.Rules(ctx, grouprule.Query{Search: "SALES"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(names(got), sales) {
		t.Fatalf("search SALES: %v, want %v", names(got), sales)
	}
	if got, _ := s.Rules(ctx, grouprule.Query{Search: "100%"}); !reflect.DeepEqual(names(got), []string{"100% remote"}) {
		t.Fatalf("search 100%%: %v", names(got))
	}
	if got, _ := s.Rules(ctx, grouprule.Query{Search: "1_0"}); len(got) != 0 {
		t.Fatalf("_ is no wildcard: %v", names(got))
	}
	var paged []string
	after := ""
	for {
		page, err := s.Rules(ctx, grouprule.Query{After: after, Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page {
			paged = append(paged, r.ID)
		}
		if len(page) < 2 {
			break
		}
		after = page[len(page)-1].ID
	}
	if !reflect.DeepEqual(paged, all) {
		t.Fatalf("pages %v, want every rule in id order %v", paged, all)
	}
}

func testManaged(t *testing.T, s grouprule.Store) {
	ctx := context.Background()
	g1, g2 := newGroup(t, s, "A"), newGroup(t, s, "B")
	u1, u2 := newUser(t, s, "u1@example.com"), newUser(t, s, "u2@example.com")
	r1, r2 := newRule("r1", g1.ID, g2.ID), newRule("r2", g1.ID)
	insertRule(t, s, r1)
	insertRule(t, s, r2)
	update(t, s, func(tx grouprule.Tx) error {
		for _, m := range []grouprule.Managed{{RuleID: r1.ID, GroupID: g1.ID, UserID: u1.ID}, {RuleID: r1.ID, GroupID: g1.ID, UserID: u1.ID}, {RuleID: r1.ID, GroupID: g2.ID, UserID: u1.ID}, {RuleID: r1.ID, GroupID: g1.ID, UserID: u2.ID}, {RuleID: r2.ID, GroupID: g1.ID, UserID: u1.ID}} {
			if err := tx.AddManaged(m); err != nil {
				return err
			}
		}
		if _, err := tx.AddMember(g1.ID, u1.ID, now()); err != nil {
			return err
		}
		gs, err := tx.UserGroupsIn(u1.ID)
		if err != nil || len(gs) != 1 || gs[0].ID != g1.ID {
			t.Errorf("UserGroupsIn inside the transaction: %v %v", gs, err)
		}
		return nil
	})
	if n, err := s.ManagedCount(ctx, r1.ID); err != nil || n != 3 {
		t.Fatalf("ManagedCount r1 = %d, %v; want 3 (adding twice records once)", n, err)
	}
	update(t, s, func(tx grouprule.Tx) error {
		ids, err := tx.ManagersOf(g1.ID, u1.ID)
		want := []string{r1.ID, r2.ID}
		if r2.ID < r1.ID {
			want = []string{r2.ID, r1.ID}
		}
		if err != nil || !reflect.DeepEqual(ids, want) {
			t.Errorf("ManagersOf: %v %v, want %v", ids, err, want)
		}
		var seen []grouprule.Managed
		after := grouprule.Managed{}
		for {
			page, err := tx.ManagedByRule(r1.ID, after, 2)
			if err != nil {
				return err
			}
			seen = append(seen, page...)
			if len(page) < 2 {
				break
			}
			after = page[len(page)-1]
		}
		if len(seen) != 3 {
			t.Errorf("ManagedByRule pages: %v", seen)
		}
		for i := 1; i < len(seen); i++ {
			a, b := seen[i-1], seen[i]
			if a.GroupID > b.GroupID || (a.GroupID == b.GroupID && a.UserID >= b.UserID) {
				t.Errorf("ManagedByRule out of order: %v", seen)
			}
		}
		if ok, err := tx.RemoveManaged(grouprule.Managed{RuleID: r2.ID, GroupID: g1.ID, UserID: u1.ID}); !ok || err != nil {
			t.Errorf("RemoveManaged: %v %v", ok, err)
		}
		if ok, _ := tx.RemoveManaged(grouprule.Managed{RuleID: r2.ID, GroupID: g1.ID, UserID: u1.ID}); ok {
			t.Error("RemoveManaged twice reported a record")
		}
		return nil
	})
	if n, _ := s.ManagedCount(ctx, r2.ID); n != 0 {
		t.Fatalf("ManagedCount r2 = %d after removal", n)
	}
}

func testCascades(t *testing.T, s grouprule.Store) {
	ctx := context.Background()
	g1, g2 := newGroup(t, s, "A"), newGroup(t, s, "B")
	u1, u2 := newUser(t, s, "u1@example.com"), newUser(t, s, "u2@example.com")
	r := newRule("r", g1.ID, g2.ID)
	insertRule(t, s, r)
	update(t, s, func(tx grouprule.Tx) error {
		for _, m := range []grouprule.Managed{{RuleID: r.ID, GroupID: g1.ID, UserID: u1.ID}, {RuleID: r.ID, GroupID: g2.ID, UserID: u1.ID}, {RuleID: r.ID, GroupID: g1.ID, UserID: u2.ID}} {
			if err := tx.AddManaged(m); err != nil {
				return err
			}
		}
		return nil
	})
	update(t, s, func(tx grouprule.Tx) error { return tx.DeleteUser(u2.ID) })
	if n, _ := s.ManagedCount(ctx, r.ID); n != 2 {
		t.Fatalf("after deleting a person: %d records, want 2", n)
	}
	update(t, s, func(tx grouprule.Tx) error { return tx.DeleteGroup(g2.ID) })
	if n, _ := s.ManagedCount(ctx, r.ID); n != 1 {
		t.Fatalf("after deleting a group: %d records, want 1", n)
	}
	update(t, s, func(tx grouprule.Tx) error { return tx.DeleteGroupRule(r.ID) })
	if n, _ := s.ManagedCount(ctx, r.ID); n != 0 {
		t.Fatalf("after deleting the rule: %d records", n)
	}
}

func testRollback(t *testing.T, s grouprule.Store) {
	ctx := context.Background()
	g := newGroup(t, s, "G")
	u := newUser(t, s, "u@example.com")
	r := newRule("r", g.ID)
	boom := errors.New("boom")
	err := s.Update(ctx, func(tx grouprule.Tx) error {
		if err := tx.InsertGroupRule(r); err != nil {
			return err
		}
		if err := tx.AddManaged(grouprule.Managed{RuleID: r.ID, GroupID: g.ID, UserID: u.ID}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update returned %v", err)
	}
	if _, err := s.Rule(ctx, r.ID); !errs.Is(err, errs.NotFound) {
		t.Fatalf("a rolled back rule exists: %v", err)
	}
	if rs, _ := s.Rules(ctx, grouprule.Query{}); len(rs) != 0 {
		t.Fatalf("rules after rollback: %v", rs)
	}
}
