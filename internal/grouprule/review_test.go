package grouprule_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/grouprule"
)

// gatedPeople lets one page through per receive on step.
type gatedPeople struct {
	grouprule.People
	step chan struct{}
}

func (g *gatedPeople) Users(ctx context.Context, q directory.UserQuery) ([]*directory.User, error) {
	<-g.step
	return g.People.Users(ctx, q)
}

// A rule deleted with removeUsers while its activation pass is half-way
// leaves no member it added, and the pass ends quietly; a rule replaced
// while a pass of an earlier activation is still running is applied with
// its new condition only.
func TestReviewEditsDuringActivation(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	g := w.group(t, "G")
	for i := 0; i < 7; i++ {
		w.person(t, fmt.Sprintf("s%d@example.com", i), "Sales", true)
	}
	r, err := w.rules.Create(ctx, grouprule.Input{Name: "r", Expression: `user.department == "Sales"`, GroupIDs: []string{g.ID}})
	if err != nil {
		t.Fatal(err)
	}
	gate := &gatedPeople{People: w.db.Directory(), step: make(chan struct{})}
	rules := *w.rules
	rules.People = gate
	rules.Wait = 10 * time.Millisecond
	if err := rules.Activate(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	gate.step <- struct{}{} // the first batch of 2
	waitFor(t, func() bool { got, _ := w.rules.Get(ctx, r.ID); return got.EvalAfter != "" })
	if n := len(w.members(t, g)); n != 2 {
		t.Fatalf("%d members after one batch", n)
	}
	if err := w.rules.Delete(ctx, r.ID, true); err != nil {
		t.Fatal(err)
	}
	close(gate.step)
	time.Sleep(100 * time.Millisecond)
	if _, err := w.rules.Get(ctx, r.ID); !errs.Is(err, errs.NotFound) {
		t.Fatalf("rule after delete: %v", err)
	}
	want(t, "members after delete with removeUsers during the pass", w.members(t, g))

	// Deactivate, replace and activate again while the first pass waits.
	g2 := w.group(t, "G2")
	for i := 0; i < 3; i++ {
		w.person(t, fmt.Sprintf("e%d@example.com", i), "Eng", true)
	}
	r, err = w.rules.Create(ctx, grouprule.Input{Name: "r2", Expression: `user.department == "Sales"`, GroupIDs: []string{g2.ID}})
	if err != nil {
		t.Fatal(err)
	}
	gate = &gatedPeople{People: w.db.Directory(), step: make(chan struct{})}
	rules.People = gate
	if err := rules.Activate(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if err := w.rules.Deactivate(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.rules.Replace(ctx, r.ID, grouprule.Input{Name: "r2", Expression: `user.department == "Eng"`, GroupIDs: []string{g2.ID}}); err != nil {
		t.Fatal(err)
	}
	if err := rules.Activate(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	close(gate.step)
	waitFor(t, func() bool { got, _ := w.rules.Get(ctx, r.ID); return !got.Evaluating })
	want(t, "members of the replaced rule", w.members(t, g2), "e0@example.com", "e1@example.com", "e2@example.com")
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A batch that outlasts BatchTime commits the people it has done and
// leaves the rest of its page to the next transaction, so a pass never
// holds the writer for long; the pass still reaches everyone, and a
// removal pass cut the same way removes every membership.
func TestBatchTime(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t)
	g := w.group(t, "G")
	for i := 0; i < 3; i++ {
		w.person(t, fmt.Sprintf("s%d@example.com", i), "Sales", true)
	}
	r, err := w.rules.Create(ctx, grouprule.Input{Name: "r", Expression: `user.department == "Sales"`, GroupIDs: []string{g.ID}})
	if err != nil {
		t.Fatal(err)
	}
	gate := &gatedPeople{People: w.db.Directory(), step: make(chan struct{})}
	rules := *w.rules
	rules.People, rules.Batch, rules.BatchTime, rules.Wait = gate, 200, time.Nanosecond, 10*time.Millisecond
	if err := rules.Activate(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	gate.step <- struct{}{} // one page of all three, cut after the first
	waitFor(t, func() bool { got, _ := w.rules.Get(ctx, r.ID); return got.EvalAfter != "" })
	if n := len(w.members(t, g)); n != 1 {
		t.Fatalf("%d members after one transaction, want 1", n)
	}
	close(gate.step)
	waitFor(t, func() bool { got, _ := w.rules.Get(ctx, r.ID); return !got.Evaluating })
	want(t, "members after the pass", w.members(t, g), "s0@example.com", "s1@example.com", "s2@example.com")
	if n := w.eventCount(t, grouprule.EventEvaluation); n != 1 {
		t.Fatalf("%d evaluation events, want 1", n)
	}
	if err := rules.Delete(ctx, r.ID, true); err != nil {
		t.Fatal(err)
	}
	want(t, "members after delete with removeUsers", w.members(t, g))
}
