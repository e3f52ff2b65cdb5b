package sqlstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/eventhook"
	"github.com/gatehouse/gatehouse/internal/eventhook/conformance"
	"github.com/gatehouse/gatehouse/internal/ids"
	"github.com/gatehouse/gatehouse/internal/provisioning"
	"github.com/gatehouse/gatehouse/internal/sqlstore"
	"github.com/gatehouse/gatehouse/internal/sqlstore/storetest"
)

func TestEventHookConformanceSQLite(t *testing.T) {
	conformance.Run(t, func(t *testing.T) eventhook.Store { return storetest.SQLite(t).EventHooks() })
}

func TestEventHookConformancePostgres(t *testing.T) {
	conformance.Run(t, func(t *testing.T) eventhook.Store { return storetest.Postgres(t).EventHooks() })
}

func TestEventTapSQLite(t *testing.T)   { testEventTap(t, storetest.SQLite(t)) }
func TestEventTapPostgres(t *testing.T) { testEventTap(t, storetest.Postgres(t)) }

// testEventTap: the events written by Tx.Append, Tx.AppendEvents and the
// group-commit EventLog of a type an active, verified hook takes are
// enqueued as deliveries in their own transaction (none when it rolls
// back, none for other types or other hooks), at most MaxBatch a job.
func testEventTap(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	src := ids.NewSource(nil)
	now := time.Now().UTC().Truncate(time.Millisecond)
	hook := func(name, status, verified string) *eventhook.Hook {
		return &eventhook.Hook{ID: src.New(ids.EventHook), Name: name, Status: status, VerificationStatus: verified, URI: "https://h.example.com/" + name,
			Headers: []eventhook.Header{}, Events: []string{"user.lifecycle.create"}, Created: now, Updated: now}
	}
	on, off, unverified := hook("on", eventhook.Active, eventhook.Verified), hook("off", eventhook.Inactive, eventhook.Verified), hook("new", eventhook.Active, eventhook.Unverified)
	if err := db.EventHooks().UpdateEventHooks(ctx, func(tx eventhook.Tx) error {
		for _, h := range []*eventhook.Hook{on, off, unverified} {
			if err := tx.InsertEventHook(h); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	q := &provisioning.Queue{Store: db.Jobs(), IDs: src, Now: time.Now}
	reg := &eventhook.Registry{Store: db.EventHooks(), Queue: q, UUID: func() string { return src.New("") }, Now: time.Now}
	if err := reg.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	db.SetEventTap(reg)
	ev := func(typ string) audit.Event {
		return audit.Event{UUID: src.New(ids.Event), Published: time.Now().UTC(), EventType: typ, Version: "0", Severity: audit.Info,
			Outcome: audit.Outcome{Result: audit.Success}, Target: []audit.Target{}}
	}
	deliveries := func() []eventhook.Payload {
		t.Helper()
		jobs, err := db.Jobs().Jobs(ctx, provisioning.Filter{Kind: eventhook.KindDeliver}, "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		out := []eventhook.Payload{}
		for i := len(jobs) - 1; i >= 0; i-- { // oldest first
			var p eventhook.Payload
			if err := json.Unmarshal(jobs[i].Payload, &p); err != nil {
				t.Fatal(err)
			}
			out = append(out, p)
		}
		return out
	}

	// One transaction, two subscribed events and another type: one job.
	a, b := ev("user.lifecycle.create"), ev("user.lifecycle.create")
	if err := db.Events().AppendBatch(ctx, []audit.Event{a, ev("group.lifecycle.create")}); err != nil {
		t.Fatal(err)
	}
	if err := db.Events().Append(ctx, b); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := db.Jobs().UpdateJobs(ctx, func(tx provisioning.Tx) error {
		if err := tx.Append(ev("user.lifecycle.create")); err != nil {
			return err
		}
		return boom
	}); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	c := ev("user.lifecycle.create")
	if err := db.EventLog().Append(ctx, c); err != nil {
		t.Fatal(err)
	}
	got := deliveries()
	if len(got) != 3 {
		t.Fatalf("%d deliveries, want 3 (batch, single, event log): %+v", len(got), got)
	}
	for i, want := range [][]string{{a.UUID}, {b.UUID}, {c.UUID}} {
		p := got[i]
		if p.HookID != on.ID || len(p.Events) != len(want) || p.Events[0].UUID != want[0] || p.EventID == "" || p.EventTime.IsZero() {
			t.Errorf("delivery %d: %+v", i, p)
		}
	}

	// A bulk write is cut into batches of MaxBatch.
	many := make([]audit.Event, eventhook.MaxBatch+3)
	for i := range many {
		many[i] = ev("user.lifecycle.create")
	}
	if err := db.Events().AppendBatch(ctx, many); err != nil {
		t.Fatal(err)
	}
	got = deliveries()[3:]
	if len(got) != 2 || len(got[0].Events) != eventhook.MaxBatch || len(got[1].Events) != 3 || got[1].Events[2].UUID != many[len(many)-1].UUID {
		t.Fatalf("bulk deliveries: %d", len(got))
	}

	// Deactivated: nothing more is enqueued once the registry reloads.
	if err := db.EventHooks().UpdateEventHooks(ctx, func(tx eventhook.Tx) error {
		on.Status = eventhook.Inactive
		return tx.UpdateEventHook(on)
	}); err != nil {
		t.Fatal(err)
	}
	if err := reg.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Events().Append(ctx, ev("user.lifecycle.create")); err != nil {
		t.Fatal(err)
	}
	if n := len(deliveries()); n != 5 {
		t.Fatalf("%d deliveries after deactivation, want 5", n)
	}
}
