package policy_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/credential"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/ids"
	"github.com/gatehouse/gatehouse/internal/policy"
	"github.com/gatehouse/gatehouse/internal/sqlstore"
	"github.com/gatehouse/gatehouse/internal/sqlstore/storetest"
)

type fakeHasher struct{}

func (fakeHasher) Hash(_ context.Context, pw string) (string, error) { return "h:" + pw, nil }
func (fakeHasher) Verify(_ context.Context, enc, pw string) (bool, bool, error) {
	return enc == "h:"+pw, false, nil
}

type world struct {
	db     *sqlstore.DB
	svc    *policy.Service
	dir    *directory.Service
	now    time.Time
	agents *directory.Group
	others *directory.Group
}

func newWorld(t *testing.T, db *sqlstore.DB) *world { return newBenchWorld(t, db) }

func newBenchWorld(t testing.TB, db *sqlstore.DB) *world {
	t.Helper()
	w := &world{db: db, now: time.Now().UTC()}
	n := 0
	var mu sync.Mutex
	events := audit.Builder{Now: func() time.Time { return w.now }, UUID: func() string {
		mu.Lock()
		defer mu.Unlock()
		n++
		return fmt.Sprintf("u-%d-%d", time.Now().UnixNano(), n)
	}}
	w.dir = &directory.Service{Store: db.Directory(), Hasher: fakeHasher{}, Policy: credential.DefaultPolicy(), IDs: ids.NewSource(nil), Now: time.Now, Events: events}
	w.svc = &policy.Service{Store: db.Policies(), Groups: db.Directory(), IDs: ids.NewSource(nil), Now: func() time.Time { return w.now }, Events: events,
		DefaultPassword: credential.DefaultPolicy()}
	ctx := context.Background()
	var err error
	if w.agents, err = w.dir.CreateGroup(ctx, "Agents", ""); err != nil {
		t.Fatal(err)
	}
	if w.others, err = w.dir.CreateGroup(ctx, "Others", ""); err != nil {
		t.Fatal(err)
	}
	if err := w.svc.EnsureDefaults(ctx); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) app(t testing.TB) string {
	t.Helper()
	src := ids.NewSource(nil)
	now := time.Now().UTC().Truncate(time.Millisecond)
	a := &catalog.App{ID: src.New(ids.App), Name: "app_" + src.Secret(6), Label: "Connect", Status: catalog.Active, SignOnMode: catalog.SignOnModeSAML2,
		ExternalKey: src.New(ids.Instance), Created: now, LastUpdated: now}
	if err := w.db.Catalog().Update(context.Background(), func(tx catalog.Tx) error { return tx.InsertApp(a) }); err != nil {
		t.Fatal(err)
	}
	return a.ID
}

func names(rs []*policy.Rule) string {
	s := ""
	for _, r := range rs {
		s += fmt.Sprintf("%d:%s ", r.Priority, r.Name)
	}
	return s
}

func TestDefaults(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		var wg sync.WaitGroup
		for i := 0; i < 4; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := w.svc.EnsureDefaults(ctx); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		for _, typ := range []policy.Type{policy.SignOn, policy.Password} {
			ps, err := w.svc.List(ctx, typ)
			if err != nil || len(ps) != 1 || !ps[0].System {
				t.Fatalf("%s: %v %+v", typ, err, ps)
			}
		}
		so, _ := w.svc.Default(ctx, policy.SignOn)
		_, rs, err := w.svc.Rules(ctx, so.ID)
		if err != nil || len(rs) != 1 || !rs[0].System || rs[0].Access != policy.Allow || rs[0].RequireMFA {
			t.Fatalf("default rule: %v %+v", err, rs)
		}
		pw, err := w.svc.PasswordPolicy(ctx)
		if err != nil || pw.MinLength != 8 || pw.HistoryCount != 4 || !pw.ExcludeUsername {
			t.Fatalf("password policy: %v %+v", err, pw)
		}
		if _, err := w.svc.List(ctx, "MFA_ENROLL"); !errs.Is(err, errs.Invalid) {
			t.Fatalf("unknown type: %v", err)
		}
		// The defaults cannot be deleted, deactivated, or joined by another.
		if err := w.svc.Delete(ctx, so.ID); !errs.Is(err, errs.IllegalState) {
			t.Fatalf("delete default: %v", err)
		}
		if _, err := w.svc.Update(ctx, so.ID, &policy.Policy{Name: "x", Status: policy.StatusInactive}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("deactivate default: %v", err)
		}
		if _, err := w.svc.Create(ctx, &policy.Policy{Type: policy.SignOn, Name: "Second"}); !errs.Is(err, errs.Invalid) {
			t.Fatalf("second sign-on policy: %v", err)
		}
		if err := w.svc.DeleteRule(ctx, so.ID, rs[0].ID); !errs.Is(err, errs.IllegalState) {
			t.Fatalf("delete default rule: %v", err)
		}
	})
}

func TestPasswordPolicySettings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		p, _ := w.svc.Default(ctx, policy.Password)
		bad := []policy.PasswordSettings{{MinLength: 2}, {MinLength: 8, HistoryCount: 31}, {MinLength: 8, MaxAgeDays: -1}, {MinLength: 8, MinSymbol: 3},
			{MinLength: 8, ExcludeAttributes: []string{"email"}}}
		for _, b := range bad {
			if _, err := w.svc.Update(ctx, p.ID, &policy.Policy{Name: p.Name, Password: &b}); !errs.Is(err, errs.Invalid) {
				t.Errorf("%+v: %v", b, err)
			}
		}
		if got, _ := w.svc.PasswordPolicy(ctx); got.MinLength != 8 {
			t.Fatalf("refused updates changed the policy: %+v", got)
		}
		good := policy.PasswordSettings{MinLength: 12, MinLowerCase: 1, MinUpperCase: 1, MinNumber: 1, MinSymbol: 1, HistoryCount: 6, MaxAgeDays: 60, ExcludeUsername: true,
			ExcludeAttributes: []string{"firstName"}}
		if _, err := w.svc.Update(ctx, p.ID, &policy.Policy{Name: p.Name, Password: &good}); err != nil {
			t.Fatal(err)
		}
		got, _ := w.svc.PasswordPolicy(ctx)
		if got.MinLength != 12 || got.MinSymbol != 1 || got.HistoryCount != 6 || got.MaxAgeDays != 60 || len(got.ExcludeAttributes) != 1 {
			t.Fatalf("policy: %+v", got)
		}
		changed := w.now.Add(-61 * 24 * time.Hour)
		if !got.Expired(&changed, w.now) {
			t.Fatal("a 61-day-old password is not expired under a 60-day policy")
		}
		recent := w.now.Add(-59 * 24 * time.Hour)
		if got.Expired(&recent, w.now) || got.Expired(nil, w.now) {
			t.Fatal("expired too early")
		}
	})
}

func TestRuleOrderAndValidation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		p, err := w.svc.Create(ctx, &policy.Policy{Type: policy.Access, Name: "Connect sign-on"})
		if err != nil {
			t.Fatal(err)
		}
		add := func(name string, prio int) *policy.Rule {
			r, err := w.svc.CreateRule(ctx, p.ID, &policy.Rule{Name: name, Priority: prio, Access: policy.Allow})
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		a := add("A", 0)
		add("B", 1)
		add("C", 99)
		_, rs, _ := w.svc.Rules(ctx, p.ID)
		if got := names(rs); got != "1:B 2:A 3:C 4:Catch-all Rule " {
			t.Fatalf("order: %s", got)
		}
		a.Priority = 3
		if _, err := w.svc.UpdateRule(ctx, p.ID, a.ID, a); err != nil {
			t.Fatal(err)
		}
		_, rs, _ = w.svc.Rules(ctx, p.ID)
		if got := names(rs); got != "1:B 2:C 3:A 4:Catch-all Rule " {
			t.Fatalf("after moving A: %s", got)
		}
		if err := w.svc.DeleteRule(ctx, p.ID, rs[0].ID); err != nil {
			t.Fatal(err)
		}
		_, rs, _ = w.svc.Rules(ctx, p.ID)
		if got := names(rs); got != "1:C 2:A 3:Catch-all Rule " {
			t.Fatalf("after deleting B: %s", got)
		}
		// The catch-all stays last and applies to everyone.
		sys := rs[2]
		sys.Priority, sys.Access = 1, policy.Deny
		if _, err := w.svc.UpdateRule(ctx, p.ID, sys.ID, sys); err != nil {
			t.Fatal(err)
		}
		_, rs, _ = w.svc.Rules(ctx, p.ID)
		if got := names(rs); got != "1:C 2:A 3:Catch-all Rule " || rs[2].Access != policy.Deny {
			t.Fatalf("after editing the catch-all: %s", got)
		}
		sys.Groups.Include = []string{w.agents.ID}
		if _, err := w.svc.UpdateRule(ctx, p.ID, sys.ID, sys); !errs.Is(err, errs.Invalid) {
			t.Fatalf("groups on the catch-all: %v", err)
		}

		bad := []policy.Rule{
			{Name: "", Access: policy.Allow},
			{Name: "x", Access: "MAYBE"},
			{Name: "x", Access: policy.Deny, RequireMFA: true},
			{Name: "x", Access: policy.Allow, Reauthenticate: time.Hour},
			{Name: "x", Access: policy.Allow, RequireMFA: true, Reauthenticate: -time.Hour},
			{Name: "x", Access: policy.Allow, RequireMFA: true, Reauthenticate: 91 * 24 * time.Hour},
			{Name: "x", Access: policy.Allow, SessionIdle: time.Hour},
			{Name: "x", Access: policy.Allow, Groups: policy.Groups{Include: []string{"00gNOPE0000000000000"}}},
			{Name: "x", Access: policy.Allow, Groups: policy.Groups{Include: []string{"not-a-group"}}},
			{Name: "x", Access: policy.Allow, Status: "PAUSED"},
		}
		for i, b := range bad {
			if _, err := w.svc.CreateRule(ctx, p.ID, &b); !errs.Is(err, errs.Invalid) {
				t.Errorf("bad rule %d: %v", i, err)
			}
		}
		so, _ := w.svc.Default(ctx, policy.SignOn)
		for i, b := range []policy.Rule{
			{Name: "x", Access: policy.Allow, Reauthenticate: time.Hour},
			{Name: "x", Access: policy.Allow, SessionIdle: 2 * time.Hour, SessionMax: time.Hour},
			{Name: "x", Access: policy.Allow, RememberDevice: time.Second},
		} {
			if _, err := w.svc.CreateRule(ctx, so.ID, &b); !errs.Is(err, errs.Invalid) {
				t.Errorf("bad sign-on rule %d: %v", i, err)
			}
		}
		_, rs, _ = w.svc.Rules(ctx, p.ID)
		if len(rs) != 3 {
			t.Fatalf("refused rules were stored: %s", names(rs))
		}
		if _, err := w.svc.UpdateRule(ctx, p.ID, "0prNOPE0000000000000", &policy.Rule{Name: "x", Access: policy.Allow}); !errs.Is(err, errs.NotFound) {
			t.Fatalf("update of an unknown rule: %v", err)
		}
		if _, err := w.svc.CreateRule(ctx, "00pNOPE0000000000000", &policy.Rule{Name: "x", Access: policy.Allow}); !errs.Is(err, errs.NotFound) {
			t.Fatalf("rule of an unknown policy: %v", err)
		}
	})
}

func TestEvaluateApp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		app := w.app(t)
		if d, err := w.svc.EvaluateApp(ctx, app, nil, time.Time{}); err != nil || d.Outcome != policy.Allow || d.PolicyID != "" {
			t.Fatalf("an app without a policy: %+v %v", d, err)
		}
		p, err := w.svc.AppPolicy(ctx, app, "Connect", true)
		if err != nil {
			t.Fatal(err)
		}
		// Agents need a factor, given within two hours; everyone else is refused.
		mfaRule, err := w.svc.CreateRule(ctx, p.ID, &policy.Rule{Name: "Agents with MFA", Access: policy.Allow, RequireMFA: true, Reauthenticate: 2 * time.Hour,
			Groups: policy.Groups{Include: []string{w.agents.ID}, Exclude: []string{w.others.ID}}})
		if err != nil {
			t.Fatal(err)
		}
		_, rs, _ := w.svc.Rules(ctx, p.ID)
		catchAll := rs[len(rs)-1]
		catchAll.Access = policy.Deny
		if _, err := w.svc.UpdateRule(ctx, p.ID, catchAll.ID, catchAll); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name   string
			groups []string
			mfa    time.Time
			want   string
			rule   string
		}{
			{"not an agent", []string{w.others.ID}, w.now, policy.Deny, catchAll.ID},
			{"no groups", nil, w.now, policy.Deny, catchAll.ID},
			{"an agent excluded as another", []string{w.agents.ID, w.others.ID}, w.now, policy.Deny, catchAll.ID},
			{"an agent without a factor", []string{w.agents.ID}, time.Time{}, policy.Challenge, mfaRule.ID},
			{"an agent whose factor is 3h old", []string{w.agents.ID}, w.now.Add(-3 * time.Hour), policy.Challenge, mfaRule.ID},
			{"an agent whose factor is 1h old", []string{w.agents.ID}, w.now.Add(-time.Hour), policy.Allow, mfaRule.ID},
		}
		for _, c := range cases {
			d, err := w.svc.EvaluateApp(ctx, app, c.groups, c.mfa)
			if err != nil || d.Outcome != c.want || d.RuleID != c.rule || d.PolicyID != p.ID {
				t.Errorf("%s: %+v %v, want %s by %s", c.name, d, err, c.want, c.rule)
			}
		}
		// An inactive rule is skipped.
		mfaRule.Status = policy.StatusInactive
		if _, err := w.svc.UpdateRule(ctx, p.ID, mfaRule.ID, mfaRule); err != nil {
			t.Fatal(err)
		}
		if d, _ := w.svc.EvaluateApp(ctx, app, []string{w.agents.ID}, time.Time{}); d.Outcome != policy.Deny {
			t.Fatalf("inactive rule applied: %+v", d)
		}
		// The decision is logged as policy.evaluate_sign_on.
		d, _ := w.svc.EvaluateApp(ctx, app, nil, time.Time{})
		if err := w.svc.Log(ctx, d, audit.Target{ID: app, Type: "AppInstance"}); err != nil {
			t.Fatal(err)
		}
		evs, _, _ := db.Events().Query(ctx, audit.Query{Limit: 100})
		found := false
		for _, ev := range evs {
			if ev.EventType == "policy.evaluate_sign_on" && ev.Outcome.Result == policy.Deny && ev.Debug["ruleId"] == catchAll.ID {
				found = true
			}
		}
		if !found {
			t.Fatal("no policy.evaluate_sign_on DENY event")
		}
		// Deleting the policy frees the app.
		if err := w.svc.Delete(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		if d, _ := w.svc.EvaluateApp(ctx, app, nil, time.Time{}); d.Outcome != policy.Allow {
			t.Fatalf("after deleting the policy: %+v", d)
		}
	})
}

func TestEvaluateSignIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		if d, err := w.svc.EvaluateSignIn(ctx, nil); err != nil || d.Outcome != policy.Allow || d.RequireMFA {
			t.Fatalf("default: %+v %v", d, err)
		}
		so, _ := w.svc.Default(ctx, policy.SignOn)
		if _, err := w.svc.CreateRule(ctx, so.ID, &policy.Rule{Name: "Agents", Access: policy.Allow, RequireMFA: true, RememberDevice: 7 * 24 * time.Hour,
			SessionIdle: 15 * time.Minute, SessionMax: 8 * time.Hour, Groups: policy.Groups{Include: []string{w.agents.ID}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.svc.CreateRule(ctx, so.ID, &policy.Rule{Name: "No others", Access: policy.Deny, Groups: policy.Groups{Include: []string{w.others.ID}}}); err != nil {
			t.Fatal(err)
		}
		d, _ := w.svc.EvaluateSignIn(ctx, []string{w.agents.ID})
		if d.Outcome != policy.Challenge || d.RememberDevice != 7*24*time.Hour || d.SessionIdle != 15*time.Minute || d.SessionMax != 8*time.Hour {
			t.Fatalf("agents: %+v", d)
		}
		if d, _ := w.svc.EvaluateSignIn(ctx, []string{w.others.ID}); d.Outcome != policy.Deny {
			t.Fatalf("others: %+v", d)
		}
		if d, _ := w.svc.EvaluateSignIn(ctx, nil); d.Outcome != policy.Allow {
			t.Fatalf("everyone else: %+v", d)
		}
	})
}

func TestDurations(t *testing.T) {
	good := map[string]time.Duration{"PT2H": 2 * time.Hour, "PT30M": 30 * time.Minute, "P1D": 24 * time.Hour, "PT0S": 0,
		"P1DT12H": 36 * time.Hour, "PT1H30M15S": time.Hour + 30*time.Minute + 15*time.Second}
	for s, want := range good {
		got, err := policy.ParseDuration(s)
		if err != nil || got != want {
			t.Errorf("%s: %v %v", s, got, err)
		}
		if back, _ := policy.ParseDuration(policy.FormatDuration(want)); back != want {
			t.Errorf("%s does not round-trip: %s", s, policy.FormatDuration(want))
		}
	}
	for _, s := range []string{"", "P", "PT", "2H", "PT2", "P1Y", "P1W", "P1M", "PT1D", "PT2H2H", "PT-1H", "PT1.5H", "P1DT", "pt2h", "PT99999999999H"} {
		if _, err := policy.ParseDuration(s); err == nil {
			t.Errorf("%q accepted", s)
		}
	}
}

func FuzzDuration(f *testing.F) {
	for _, s := range []string{"PT2H", "P1DT12H", "PT0S", "PT1H30M15S", "P", "PT99999H"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := policy.ParseDuration(s)
		if err != nil {
			return
		}
		if d < 0 {
			t.Fatalf("%q parsed to a negative %s", s, d)
		}
		if back, err := policy.ParseDuration(policy.FormatDuration(d)); err != nil || back != d {
			t.Fatalf("%q = %s does not round-trip (%v %v)", s, d, back, err)
		}
	})
}

// TestRulesCacheAcrossNodes: two services (two nodes) on one database: a
// change made on one applies on the other at its next evaluation.
func TestRulesCacheAcrossNodes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		other := &policy.Service{Store: db.Policies(), Groups: db.Directory(), IDs: ids.NewSource(nil), Now: time.Now, Events: w.svc.Events}
		app := w.app(t)
		if d, _ := other.EvaluateApp(ctx, app, nil, time.Time{}); d.Outcome != policy.Allow {
			t.Fatalf("before: %+v", d)
		}
		p, err := w.svc.AppPolicy(ctx, app, "Connect", true)
		if err != nil {
			t.Fatal(err)
		}
		r, err := w.svc.CreateRule(ctx, p.ID, &policy.Rule{Name: "MFA", Access: policy.Allow, RequireMFA: true})
		if err != nil {
			t.Fatal(err)
		}
		if d, _ := other.EvaluateApp(ctx, app, nil, time.Time{}); d.Outcome != policy.Challenge {
			t.Fatalf("the other node missed the new rule: %+v", d)
		}
		r.Access, r.RequireMFA = policy.Deny, false
		if _, err := w.svc.UpdateRule(ctx, p.ID, r.ID, r); err != nil {
			t.Fatal(err)
		}
		if d, _ := other.EvaluateApp(ctx, app, nil, time.Time{}); d.Outcome != policy.Deny {
			t.Fatalf("the other node missed the change: %+v", d)
		}
		if err := w.svc.Delete(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		if d, _ := other.EvaluateApp(ctx, app, nil, time.Time{}); d.Outcome != policy.Allow {
			t.Fatalf("the other node missed the deletion: %+v", d)
		}
	})
}
