package grouprule_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/credential"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/expr"
	"github.com/gatehouse/gatehouse/internal/grouprule"
	"github.com/gatehouse/gatehouse/internal/ids"
	"github.com/gatehouse/gatehouse/internal/sqlstore"
	"github.com/gatehouse/gatehouse/internal/sqlstore/storetest"
)

type fakeHasher struct{}

func (fakeHasher) Hash(_ context.Context, pw string) (string, error) { return "h:" + pw, nil }
func (fakeHasher) Verify(_ context.Context, enc, pw string) (bool, bool, error) {
	return enc == "h:"+pw, false, nil
}

type world struct {
	db    *sqlstore.DB
	dir   *directory.Service
	rules *grouprule.Service
}

func newWorld(t *testing.T) *world {
	db := storetest.SQLite(t)
	var n atomic.Int64
	events := audit.Builder{Now: time.Now, UUID: func() string { return fmt.Sprintf("u-%d-%d", time.Now().UnixNano(), n.Add(1)) }}
	src := ids.NewSource(nil)
	dir := &directory.Service{Store: db.Directory(), Hasher: fakeHasher{}, Policy: credential.DefaultPolicy(), IDs: src, Now: time.Now, Events: events}
	rules := &grouprule.Service{Store: db.GroupRules(), Members: dir, People: db.Directory(), Expr: expr.NewEngine(), IDs: src, Now: time.Now, Events: events, Batch: 2}
	dir.OnChange = append(dir.OnChange, rules.OnUserChange)
	dir.OnMembership = append(dir.OnMembership, rules.OnMembership)
	dir.OnGroupDelete = append(dir.OnGroupDelete, rules.OnGroupDelete)
	return &world{db: db, dir: dir, rules: rules}
}

func (w *world) person(t *testing.T, login, dept string, activate bool) *directory.User {
	t.Helper()
	u, err := w.dir.CreateUser(context.Background(), directory.CreateUserInput{Activate: activate, Password: "Correct-Horse-9",
		Profile: directory.Profile{"login": login, "email": login, "firstName": "F", "lastName": "L", "department": dept}})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (w *world) group(t *testing.T, name string) *directory.Group {
	t.Helper()
	g, err := w.dir.CreateGroup(context.Background(), name, "")
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// members lists the logins of a group's members, sorted.
func (w *world) members(t *testing.T, g *directory.Group) []string {
	t.Helper()
	us, err := w.db.Directory().GroupMembers(context.Background(), g.ID, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, u := range us {
		out = append(out, u.Login())
	}
	sort.Strings(out)
	return out
}

func (w *world) eventCount(t *testing.T, eventType string) int {
	t.Helper()
	evs, _, err := w.db.Events().Query(context.Background(), audit.Query{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range evs {
		if e.EventType == eventType {
			n++
		}
	}
	return n
}

func want(t *testing.T, what string, got []string, w ...string) {
	t.Helper()
	if w == nil {
		w = []string{}
	}
	w = append([]string(nil), w...)
	sort.Strings(w)
	if strings.Join(got, ",") != strings.Join(w, ",") {
		t.Fatalf("%s: %v, want %v", what, got, w)
	}
}

func TestRuleLifecycleAndEvaluation(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	sales, all := w.group(t, "Sales"), w.group(t, "All staff")
	// Five people in sales (more than two batches), one elsewhere, one
	// staged (pending people are not moved), one sales person who is
	// excluded, and one who is in Sales by hand already.
	for i := 0; i < 5; i++ {
		w.person(t, fmt.Sprintf("s%d@example.com", i), "Sales", true)
	}
	w.person(t, "eng@example.com", "Engineering", true)
	w.person(t, "staged@example.com", "Sales", false)
	ex := w.person(t, "ex@example.com", "Sales", true)
	manual := w.person(t, "manual@example.com", "Engineering", true)
	if err := w.dir.AddMember(ctx, sales.ID, manual.ID); err != nil {
		t.Fatal(err)
	}
	r, err := w.rules.Create(ctx, grouprule.Input{Name: "Sales people", Expression: `user.department == "Sales"`,
		GroupIDs: []string{sales.ID, all.ID}, ExcludeUserIDs: []string{ex.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != grouprule.Inactive {
		t.Fatalf("a new rule is %s, want INACTIVE", r.Status)
	}
	want(t, "Sales before activation", w.members(t, sales), "manual@example.com")
	if err := w.rules.Activate(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	five := []string{"s0@example.com", "s1@example.com", "s2@example.com", "s3@example.com", "s4@example.com"}
	want(t, "All staff after activation", w.members(t, all), five...)
	want(t, "Sales after activation", w.members(t, sales), append([]string{"manual@example.com"}, five...)...)
	if n := w.eventCount(t, "group.user_membership.add"); n != 11 { // 1 manual + 5 x 2
		t.Fatalf("%d group.user_membership.add events, want 11", n)
	}
	if got, _ := w.rules.Get(ctx, r.ID); got.Evaluating {
		t.Fatal("the activation pass is still marked unfinished")
	}

	// A person's change is evaluated: joining sales adds, leaving removes
	// the rule's memberships only.
	if _, err := w.dir.UpdateProfile(ctx, "eng@example.com", directory.Profile{"department": "Sales"}, false); err != nil {
		t.Fatal(err)
	}
	want(t, "All staff after eng joined sales", w.members(t, all), append(five, "eng@example.com")...)
	if _, err := w.dir.UpdateProfile(ctx, "manual@example.com", directory.Profile{"department": "Sales"}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := w.dir.UpdateProfile(ctx, "manual@example.com", directory.Profile{"department": "Support"}, false); err != nil {
		t.Fatal(err)
	}
	if !contains(w.members(t, sales), "manual@example.com") {
		t.Fatal("a rule removed a membership an administrator made")
	}
	if contains(w.members(t, all), "manual@example.com") {
		t.Fatal("the rule's own membership stayed after the person stopped matching")
	}
	// A new active person who matches is added at creation; activation
	// of a staged one adds them.
	w.person(t, "new@example.com", "Sales", true)
	if _, err := w.dir.Transition(ctx, "staged@example.com", directory.OpActivate); err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"new@example.com", "staged@example.com"} {
		if !contains(w.members(t, sales), l) {
			t.Fatalf("%s was not added", l)
		}
	}
	if contains(w.members(t, sales), "ex@example.com") {
		t.Fatal("an excluded person was added")
	}

	// Manual removal of a rule membership excludes the person, as Okta does.
	if err := w.dir.RemoveMember(ctx, sales.ID, "s0@example.com"); err != nil {
		t.Fatal(err)
	}
	got, _ := w.rules.Get(ctx, r.ID)
	s0, _ := w.db.Directory().User(ctx, "s0@example.com")
	if !got.Excludes(s0.ID) || w.eventCount(t, grouprule.EventAddExclusion) != 1 {
		t.Fatalf("manual removal did not exclude the person: %v", got.ExcludeUserIDs)
	}

	// A deleted person leaves the rule's exclusions, so that the rule
	// read back can be saved again.
	for i := 0; i < 2; i++ {
		if _, err := w.dir.Delete(ctx, "ex@example.com"); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := w.rules.Get(ctx, r.ID); got.Excludes(ex.ID) {
		t.Fatalf("a deleted person is still excluded: %v", got.ExcludeUserIDs)
	}

	// Deactivation keeps memberships, and changes are no longer applied.
	if err := w.rules.Deactivate(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.dir.UpdateProfile(ctx, "s1@example.com", directory.Profile{"department": "Support"}, false); err != nil {
		t.Fatal(err)
	}
	if !contains(w.members(t, all), "s1@example.com") {
		t.Fatal("an inactive rule removed a membership")
	}
	if w.eventCount(t, grouprule.EventDeactivated) != 1 {
		t.Fatal("no deactivation event")
	}

	// Delete with removeUsers removes the rule's memberships only.
	if err := w.rules.Delete(ctx, r.ID, true); err != nil {
		t.Fatal(err)
	}
	want(t, "All staff after delete", w.members(t, all))
	want(t, "Sales after delete", w.members(t, sales), "manual@example.com")
	if _, err := w.rules.Get(ctx, r.ID); !errs.Is(err, errs.NotFound) {
		t.Fatalf("deleted rule: %v", err)
	}
}

func contains(ss []string, v string) bool {
	for _, s := range ss {
		if s == v {
			return true
		}
	}
	return false
}

func TestTwoRulesShareAMembership(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	g := w.group(t, "Managers")
	w.person(t, "a@example.com", "Sales", true)
	r1, err := w.rules.Create(ctx, grouprule.Input{Name: "by department", Expression: `user.department == "Sales"`, GroupIDs: []string{g.ID}})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := w.rules.Create(ctx, grouprule.Input{Name: "by email", Expression: `String.stringContains(user.email, "@example.com")`, GroupIDs: []string{g.ID}})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*grouprule.Rule{r1, r2} {
		if err := w.rules.Activate(ctx, r.ID); err != nil {
			t.Fatal(err)
		}
	}
	// The person stops matching rule 1 but still matches rule 2: stays.
	if _, err := w.dir.UpdateProfile(ctx, "a@example.com", directory.Profile{"department": "Support"}, false); err != nil {
		t.Fatal(err)
	}
	want(t, "members", w.members(t, g), "a@example.com")
	// Deleting rule 2 without removeUsers leaves the membership, which
	// is then no rule's.
	if err := w.rules.Delete(ctx, r2.ID, false); err != nil {
		t.Fatal(err)
	}
	if err := w.rules.Delete(ctx, r1.ID, true); err != nil {
		t.Fatal(err)
	}
	want(t, "members", w.members(t, g), "a@example.com")
}

func TestGroupConditionFollowsManualMembership(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	eng, tech := w.group(t, "Engineering"), w.group(t, "All tech")
	a := w.person(t, "a@example.com", "", true)
	r, err := w.rules.Create(ctx, grouprule.Input{Name: "tech", Expression: `isMemberOfGroupName("Engineering")`, GroupIDs: []string{tech.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.rules.Activate(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	want(t, "before", w.members(t, tech))
	if err := w.dir.AddMember(ctx, eng.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	want(t, "after joining Engineering", w.members(t, tech), "a@example.com")
	if err := w.dir.RemoveMember(ctx, eng.ID, a.ID); err != nil {
		t.Fatal(err)
	}
	want(t, "after leaving Engineering", w.members(t, tech))
}

func TestBadInputChangesNothing(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	g := w.group(t, "G")
	ok := grouprule.Input{Name: "ok", Expression: `user.department == "Sales"`, GroupIDs: []string{g.ID}}
	if _, err := w.rules.Create(ctx, ok); err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string]grouprule.Input{
		grouprule.FieldName:       {Name: "OK", Expression: ok.Expression, GroupIDs: ok.GroupIDs},
		grouprule.FieldExpression: {Name: "x", Expression: `String.toLowerCase(user.email)`, GroupIDs: ok.GroupIDs},
		grouprule.FieldGroups:     {Name: "x", Expression: ok.Expression, GroupIDs: []string{"00gmissing"}},
		grouprule.FieldExclude:    {Name: "x", Expression: ok.Expression, GroupIDs: ok.GroupIDs, ExcludeUserIDs: []string{"00umissing"}},
		grouprule.FieldExprType:   {Name: "x", ExpressionType: "urn:other", Expression: ok.Expression, GroupIDs: ok.GroupIDs},
		grouprule.FieldGroupsExcl: {Name: "x", Expression: ok.Expression, GroupIDs: ok.GroupIDs, ExcludeGroupIDs: []string{g.ID}},
	} {
		_, err := w.rules.Create(ctx, in)
		e, isErr := errs.As(err)
		if !isErr || e.Kind != errs.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != name {
			t.Errorf("%s: got %v (%+v)", name, err, e)
		}
	}
	if _, err := w.rules.Create(ctx, grouprule.Input{Name: "x", Expression: `user.a ==`, GroupIDs: ok.GroupIDs}); err == nil || !strings.Contains(err.(*errs.Error).Fields[0].Message, "at 1:") {
		t.Errorf("a syntax error names no position: %v", err)
	}
	rs, _ := w.rules.List(ctx, grouprule.Query{})
	if len(rs) != 1 {
		t.Fatalf("%d rules after refused input, want 1", len(rs))
	}
	// PUT: only INACTIVE, and never other groups.
	h := w.group(t, "H")
	changed := ok
	changed.GroupIDs = []string{h.ID}
	if _, err := w.rules.Replace(ctx, rs[0].ID, changed); !errs.Is(err, errs.Invalid) {
		t.Fatalf("changing the groups: %v", err)
	}
	if err := w.rules.Activate(ctx, rs[0].ID); err != nil {
		t.Fatal(err)
	}
	renamed := ok
	renamed.Name = "renamed"
	if _, err := w.rules.Replace(ctx, rs[0].ID, renamed); !errs.Is(err, errs.Invalid) {
		t.Fatalf("replacing an active rule: %v", err)
	}
	if got, _ := w.rules.Get(ctx, rs[0].ID); got.Name != "ok" {
		t.Fatalf("refused replace changed the name to %q", got.Name)
	}
}

func TestDeletedTargetInvalidatesRule(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	g, h := w.group(t, "G"), w.group(t, "H")
	r, err := w.rules.Create(ctx, grouprule.Input{Name: "r", Expression: `user.department == "Sales"`, GroupIDs: []string{g.ID, h.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.rules.Activate(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if err := w.dir.DeleteGroup(ctx, h.ID); err != nil {
		t.Fatal(err)
	}
	got, _ := w.rules.Get(ctx, r.ID)
	if got.Status != grouprule.Invalid || w.eventCount(t, grouprule.EventInvalidate) != 1 {
		t.Fatalf("status %s after deleting a target group", got.Status)
	}
	w.person(t, "a@example.com", "Sales", true)
	want(t, "an invalid rule applies nothing", w.members(t, g))
	if err := w.rules.Activate(ctx, r.ID); !errs.Is(err, errs.IllegalState) {
		t.Fatalf("activating an INVALID rule: %v", err)
	}
}

func TestInterruptedActivationResumes(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	g := w.group(t, "G")
	for i := 0; i < 5; i++ {
		w.person(t, fmt.Sprintf("p%d@example.com", i), "Sales", true)
	}
	r, err := w.rules.Create(ctx, grouprule.Input{Name: "r", Expression: `user.department == "Sales"`, GroupIDs: []string{g.ID}})
	if err != nil {
		t.Fatal(err)
	}
	// Activation whose pass stops after its first batch (the database
	// fails, as when the process stops).
	stopping := &failAfter{People: w.db.Directory(), after: 1}
	rules := *w.rules
	rules.People = stopping
	if err := rules.Activate(ctx, r.ID); !errors.Is(err, errStopped) {
		t.Fatalf("the interrupted activation reported %v", err)
	}
	if n := len(w.members(t, g)); n != 2 {
		t.Fatalf("%d members after one batch, want 2", n)
	}
	if got, _ := w.rules.Get(ctx, r.ID); !got.Evaluating || got.Status != grouprule.Active {
		t.Fatalf("interrupted pass not recorded: %+v", got)
	}
	if err := w.rules.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(w.members(t, g)); n != 5 {
		t.Fatalf("%d members after resuming, want 5", n)
	}
	if got, _ := w.rules.Get(ctx, r.ID); got.Evaluating {
		t.Fatal("the resumed pass is still unfinished")
	}
}

var errStopped = errors.New("stopped")

// failAfter fails after serving some pages of people.
type failAfter struct {
	grouprule.People
	after int
}

func (c *failAfter) Users(ctx context.Context, q directory.UserQuery) ([]*directory.User, error) {
	if c.after == 0 {
		return nil, errStopped
	}
	c.after--
	return c.People.Users(ctx, q)
}

func TestSlowActivationGoesOnInTheBackground(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	g := w.group(t, "G")
	for i := 0; i < 3; i++ {
		w.person(t, fmt.Sprintf("p%d@example.com", i), "Sales", true)
	}
	r, err := w.rules.Create(ctx, grouprule.Input{Name: "r", Expression: `user.department == "Sales"`, GroupIDs: []string{g.ID}})
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	rules := *w.rules
	rules.People = &slowPeople{People: w.db.Directory(), release: release}
	rules.Wait = 10 * time.Millisecond
	if err := rules.Activate(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := w.rules.Get(ctx, r.ID); got.Status != grouprule.Active || !got.Evaluating {
		t.Fatalf("after a slow activation: %+v", got)
	}
	close(release)
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, _ := w.rules.Get(ctx, r.ID)
		if !got.Evaluating {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the background pass did not finish")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(w.members(t, g)); n != 3 {
		t.Fatalf("%d members after the background pass, want 3", n)
	}
}

// slowPeople holds every page until release is closed.
type slowPeople struct {
	grouprule.People
	release chan struct{}
}

func (s *slowPeople) Users(ctx context.Context, q directory.UserQuery) ([]*directory.User, error) {
	<-s.release
	return s.People.Users(ctx, q)
}
