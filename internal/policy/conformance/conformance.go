// Package conformance is the test suite every implementation of
// policy.Store must pass. sqlstore runs it on SQLite and PostgreSQL.
package conformance

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/ids"
	"github.com/gatehouse/gatehouse/internal/policy"
)

// Run runs the suite. newStore returns an empty store and a function that
// creates an app (the access policy of an app refers to it).
func Run(t *testing.T, newStore func(t *testing.T) (policy.Store, func(t *testing.T) string)) {
	t.Run("PolicyRoundTrip", func(t *testing.T) { s, _ := newStore(t); testPolicyRoundTrip(t, s) })
	t.Run("OneSystemPolicyPerType", func(t *testing.T) { s, _ := newStore(t); testOneSystem(t, s) })
	t.Run("RulesInOrder", func(t *testing.T) { s, _ := newStore(t); testRules(t, s) })
	t.Run("AppRules", func(t *testing.T) { s, app := newStore(t); testAppRules(t, s, app) })
	t.Run("DeleteCascades", func(t *testing.T) { s, app := newStore(t); testDelete(t, s, app) })
	t.Run("Rollback", func(t *testing.T) { s, _ := newStore(t); testRollback(t, s) })
	t.Run("Version", func(t *testing.T) { s, _ := newStore(t); testVersion(t, s) })
}

func testVersion(t *testing.T, s policy.Store) {
	ctx := context.Background()
	v0, err := s.Version(ctx)
	must(t, err)
	must(t, s.Update(ctx, func(tx policy.Tx) error { return tx.Bump() }))
	v1, err := s.Version(ctx)
	must(t, err)
	if v1 != v0+1 {
		t.Fatalf("version %d after a bump from %d", v1, v0)
	}
	// A rolled-back bump leaves the version.
	_ = s.Update(ctx, func(tx policy.Tx) error {
		if err := tx.Bump(); err != nil {
			return err
		}
		return errors.New("boom")
	})
	if v2, _ := s.Version(ctx); v2 != v1 {
		t.Fatalf("a rolled-back bump moved the version to %d", v2)
	}
	// Concurrent bumps are all counted.
	var wg sync.WaitGroup
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Update(ctx, func(tx policy.Tx) error { return tx.Bump() }); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if v3, _ := s.Version(ctx); v3 != v1+5 {
		t.Fatalf("version %d after 5 concurrent bumps from %d", v3, v1)
	}
}

var src = ids.NewSource(nil)

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ev() audit.Event {
	return audit.Event{UUID: src.New(ids.Event), Published: time.Now().UTC(), EventType: "policy.test", Severity: audit.Info, Outcome: audit.Outcome{Result: audit.Success}}
}

func newPolicy(t policy.Type, system bool) *policy.Policy {
	now := time.Now().UTC().Truncate(time.Millisecond)
	p := &policy.Policy{ID: src.New(ids.Policy), Type: t, Name: "P " + string(t), Status: policy.StatusActive, Priority: 1, System: system,
		Created: now, LastUpdated: now, Groups: policy.Groups{Include: []string{"00gA"}}}
	if t == policy.Password {
		p.Password = &policy.PasswordSettings{MinLength: 12, MinUpperCase: 1, HistoryCount: 5, MaxAgeDays: 90, ExcludeUsername: true}
	}
	return p
}

func newRule(pid string, prio int, system bool) *policy.Rule {
	now := time.Now().UTC().Truncate(time.Millisecond)
	return &policy.Rule{ID: src.New(ids.Rule), PolicyID: pid, Name: "R", Status: policy.StatusActive, Priority: prio, System: system,
		Created: now, LastUpdated: now, Access: policy.Allow, RequireMFA: true, Reauthenticate: 2 * time.Hour,
		Groups: policy.Groups{Include: []string{"00g1"}, Exclude: []string{"00g2"}}}
}

func insert(t *testing.T, s policy.Store, p *policy.Policy, rules ...*policy.Rule) {
	t.Helper()
	must(t, s.Update(context.Background(), func(tx policy.Tx) error {
		if err := tx.InsertPolicy(p); err != nil {
			return err
		}
		for _, r := range rules {
			if err := tx.InsertRule(r); err != nil {
				return err
			}
		}
		return tx.Append(ev())
	}))
}

func testPolicyRoundTrip(t *testing.T, s policy.Store) {
	ctx := context.Background()
	p := newPolicy(policy.Password, true)
	insert(t, s, p)
	got, err := s.Policy(ctx, p.ID)
	must(t, err)
	if got.Type != policy.Password || !got.System || got.Password == nil || got.Password.MinLength != 12 || got.Password.MaxAgeDays != 90 ||
		!got.Created.Equal(p.Created) || len(got.Groups.Include) != 1 {
		t.Fatalf("policy read back as %+v %+v", got, got.Password)
	}
	got.Name, got.Status, got.Password.MinLength = "Renamed", policy.StatusInactive, 16
	must(t, s.Update(ctx, func(tx policy.Tx) error {
		x, err := tx.PolicyForUpdate(p.ID)
		if err != nil || x.ID != p.ID {
			t.Errorf("PolicyForUpdate: %v", err)
		}
		return tx.UpdatePolicy(got)
	}))
	again, err := s.Policy(ctx, p.ID)
	must(t, err)
	if again.Name != "Renamed" || again.Status != policy.StatusInactive || again.Password.MinLength != 16 {
		t.Fatalf("updated policy: %+v", again)
	}
	if _, err := s.Policy(ctx, "00pNOPE0000000000000"); !errs.Is(err, errs.NotFound) {
		t.Fatalf("unknown policy: %v", err)
	}
	ps, err := s.Policies(ctx, policy.Password)
	must(t, err)
	if len(ps) != 1 {
		t.Fatalf("list: %d", len(ps))
	}
	if ps, _ := s.Policies(ctx, policy.SignOn); len(ps) != 0 {
		t.Fatalf("sign-on policies: %d", len(ps))
	}
}

func testOneSystem(t *testing.T, s policy.Store) {
	insert(t, s, newPolicy(policy.SignOn, true))
	err := s.Update(context.Background(), func(tx policy.Tx) error { return tx.InsertPolicy(newPolicy(policy.SignOn, true)) })
	if !errs.Is(err, errs.Conflict) {
		t.Fatalf("a second default sign-on policy: %v", err)
	}
	// Concurrent creation of a default: exactly one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if s.Update(context.Background(), func(tx policy.Tx) error { return tx.InsertPolicy(newPolicy(policy.Password, true)) }) == nil {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d default password policies", wins)
	}
	// Non-system policies of a type coexist.
	insert(t, s, newPolicy(policy.Access, false))
	insert(t, s, newPolicy(policy.Access, false))
}

func testRules(t *testing.T, s policy.Store) {
	ctx := context.Background()
	p := newPolicy(policy.Access, false)
	sys, a, b := newRule(p.ID, 3, true), newRule(p.ID, 2, false), newRule(p.ID, 1, false)
	insert(t, s, p, sys, a, b)
	rs, err := s.Rules(ctx, p.ID)
	must(t, err)
	if len(rs) != 3 || rs[0].ID != b.ID || rs[1].ID != a.ID || rs[2].ID != sys.ID || !rs[2].System {
		t.Fatalf("order: %v", rs)
	}
	r := rs[0]
	if !r.RequireMFA || r.Reauthenticate != 2*time.Hour || r.Groups.Include[0] != "00g1" || r.Groups.Exclude[0] != "00g2" || r.Access != policy.Allow {
		t.Fatalf("rule read back as %+v", r)
	}
	r.Priority, r.Access, r.RequireMFA, r.Name = 5, policy.Deny, false, "Moved"
	must(t, s.Update(ctx, func(tx policy.Tx) error { return tx.UpdateRule(r) }))
	must(t, s.Update(ctx, func(tx policy.Tx) error {
		rs, err := tx.RulesForUpdate(p.ID)
		if err == nil && (len(rs) != 3 || rs[2].ID != b.ID || rs[2].Access != policy.Deny || rs[2].Name != "Moved") {
			t.Errorf("after update: %+v", rs)
		}
		return err
	}))
	if err := s.Update(ctx, func(tx policy.Tx) error { return tx.DeleteRule(p.ID, "0prNOPE0000000000000") }); !errs.Is(err, errs.NotFound) {
		t.Fatalf("delete of an unknown rule: %v", err)
	}
	other := newPolicy(policy.Access, false)
	insert(t, s, other)
	if err := s.Update(ctx, func(tx policy.Tx) error { return tx.DeleteRule(other.ID, a.ID) }); !errs.Is(err, errs.NotFound) {
		t.Fatalf("delete of another policy's rule: %v", err)
	}
}

func testAppRules(t *testing.T, s policy.Store, newApp func(t *testing.T) string) {
	ctx := context.Background()
	app := newApp(t)
	if pid, rs, err := s.AppRules(ctx, app); err != nil || pid != "" || len(rs) != 0 {
		t.Fatalf("an app without a policy: %q %v %v", pid, rs, err)
	}
	p := newPolicy(policy.Access, false)
	r1, r2 := newRule(p.ID, 1, false), newRule(p.ID, 2, true)
	insert(t, s, p, r2, r1)
	must(t, s.Update(ctx, func(tx policy.Tx) error { return tx.SetAppPolicy(app, p.ID) }))
	pid, rs, err := s.AppRules(ctx, app)
	must(t, err)
	if pid != p.ID || len(rs) != 2 || rs[0].ID != r1.ID || rs[1].ID != r2.ID || rs[0].Reauthenticate != 2*time.Hour || !rs[1].System {
		t.Fatalf("app rules: %q %+v", pid, rs)
	}
	if got, _ := s.AppPolicy(ctx, app); got != p.ID {
		t.Fatalf("app policy %q", got)
	}
	if apps, _ := s.PolicyApps(ctx, p.ID); len(apps) != 1 || apps[0] != app {
		t.Fatalf("policy apps %v", apps)
	}
	// An inactive policy does not apply.
	p.Status = policy.StatusInactive
	must(t, s.Update(ctx, func(tx policy.Tx) error { return tx.UpdatePolicy(p) }))
	if pid, _, _ := s.AppRules(ctx, app); pid != "" {
		t.Fatal("an inactive policy applies")
	}
	// A policy without rules still applies (and denies, in the service).
	empty := newPolicy(policy.Access, false)
	insert(t, s, empty)
	must(t, s.Update(ctx, func(tx policy.Tx) error { return tx.SetAppPolicy(app, empty.ID) }))
	if pid, rs, _ := s.AppRules(ctx, app); pid != empty.ID || len(rs) != 0 {
		t.Fatalf("policy without rules: %q %v", pid, rs)
	}
	if err := s.Update(ctx, func(tx policy.Tx) error { return tx.SetAppPolicy("0oaNOPE0000000000000", empty.ID) }); !errs.Is(err, errs.NotFound) {
		t.Fatalf("assignment to an unknown app: %v", err)
	}
}

func testDelete(t *testing.T, s policy.Store, newApp func(t *testing.T) string) {
	ctx := context.Background()
	app := newApp(t)
	p := newPolicy(policy.Access, false)
	insert(t, s, p, newRule(p.ID, 1, false))
	must(t, s.Update(ctx, func(tx policy.Tx) error { return tx.SetAppPolicy(app, p.ID) }))
	must(t, s.Update(ctx, func(tx policy.Tx) error { return tx.DeletePolicy(p.ID) }))
	if pid, _ := s.AppPolicy(ctx, app); pid != "" {
		t.Fatal("the app still has the deleted policy")
	}
	if rs, _ := s.Rules(ctx, p.ID); len(rs) != 0 {
		t.Fatal("rules outlived their policy")
	}
	if err := s.Update(ctx, func(tx policy.Tx) error { return tx.DeletePolicy(p.ID) }); !errs.Is(err, errs.NotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

func testRollback(t *testing.T, s policy.Store) {
	ctx := context.Background()
	boom := errors.New("boom")
	p := newPolicy(policy.Access, false)
	err := s.Update(ctx, func(tx policy.Tx) error {
		if err := tx.InsertPolicy(p); err != nil {
			return err
		}
		if err := tx.InsertRule(newRule(p.ID, 1, false)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if _, err := s.Policy(ctx, p.ID); !errs.Is(err, errs.NotFound) {
		t.Fatal("a rolled-back policy exists")
	}
}
