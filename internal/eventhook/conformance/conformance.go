// Package conformance is the behavior every eventhook.Store must have,
// run against each implementation (sqlstore on SQLite and PostgreSQL).
package conformance

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/eventhook"
	"github.com/gatehouse/gatehouse/internal/ids"
)

// Run runs the suite; newStore returns an empty store.
func Run(t *testing.T, newStore func(t *testing.T) eventhook.Store) {
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, newStore(t)) })
	t.Run("UpdateDelete", func(t *testing.T) { testUpdateDelete(t, newStore(t)) })
	t.Run("Rollback", func(t *testing.T) { testRollback(t, newStore(t)) })
}

var src = ids.NewSource(nil)

func sample(name string, at time.Time) *eventhook.Hook {
	desc := "sends " + name
	return &eventhook.Hook{ID: src.New(ids.EventHook), Name: name, Description: &desc, Status: eventhook.Active,
		VerificationStatus: eventhook.Unverified, URI: "https://hooks.example.com/" + name,
		Headers: []eventhook.Header{{Key: "X-Other", Value: "v"}}, AuthKey: "Authorization", AuthSealed: "sealed:" + name,
		Events: []string{"user.lifecycle.create", "group.lifecycle.create"}, CreatedBy: "00uadmin", Created: at, Updated: at,
		Filter: &eventhook.Filter{Type: eventhook.FilterType, Map: []eventhook.FilterCondition{{Event: "user.lifecycle.create", Expression: "event.actor.type eq 'User'"}}}}
}

func event(typ string) audit.Event {
	return audit.Event{UUID: src.New(ids.Event), Published: time.Now().UTC(), EventType: typ, Version: "0", Severity: audit.Info,
		Outcome: audit.Outcome{Result: audit.Success}, Target: []audit.Target{}}
}

func insert(t *testing.T, s eventhook.Store, h *eventhook.Hook) {
	t.Helper()
	if err := s.UpdateEventHooks(context.Background(), func(tx eventhook.Tx) error {
		if err := tx.InsertEventHook(h); err != nil {
			return err
		}
		return tx.Append(event(eventhook.EventCreated))
	}); err != nil {
		t.Fatal(err)
	}
}

func testRoundTrip(t *testing.T, s eventhook.Store) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	a, b := sample("a", now), sample("b", now.Add(time.Second))
	b.Description, b.AuthKey, b.AuthSealed, b.Headers, b.Filter = nil, "", "", []eventhook.Header{}, nil
	insert(t, s, b)
	insert(t, s, a)
	got, err := s.EventHook(ctx, a.ID)
	if err != nil || !reflect.DeepEqual(got, a) {
		t.Fatalf("read back %+v (%v), want %+v", got, err, a)
	}
	all, err := s.EventHooks(ctx)
	if err != nil || len(all) != 2 || all[0].ID != a.ID || !reflect.DeepEqual(all[1], b) {
		t.Fatalf("list (oldest first): %+v %v", all, err)
	}
	if _, err := s.EventHook(ctx, src.New(ids.EventHook)); !errs.Is(err, errs.NotFound) {
		t.Fatalf("missing hook: %v", err)
	}
}

func testUpdateDelete(t *testing.T, s eventhook.Store) {
	ctx := context.Background()
	h := sample("u", time.Now().UTC().Truncate(time.Millisecond))
	insert(t, s, h)
	err := s.UpdateEventHooks(ctx, func(tx eventhook.Tx) error {
		cur, err := tx.EventHookForUpdate(h.ID)
		if err != nil {
			return err
		}
		cur.Status, cur.VerificationStatus, cur.URI, cur.Events = eventhook.Inactive, eventhook.Verified, "https://other.example.com/", []string{"user.session.start"}
		cur.Filter = nil
		cur.Updated = cur.Updated.Add(time.Minute)
		return tx.UpdateEventHook(cur)
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := s.EventHook(ctx, h.ID)
	if got.Status != eventhook.Inactive || got.VerificationStatus != eventhook.Verified || got.URI != "https://other.example.com/" ||
		!reflect.DeepEqual(got.Events, []string{"user.session.start"}) || !got.Updated.Equal(h.Updated.Add(time.Minute)) || !got.Created.Equal(h.Created) || got.Filter != nil {
		t.Fatalf("after update: %+v", got)
	}
	if err := s.UpdateEventHooks(ctx, func(tx eventhook.Tx) error { return tx.DeleteEventHook(h.ID) }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EventHook(ctx, h.ID); !errs.Is(err, errs.NotFound) {
		t.Fatalf("deleted hook: %v", err)
	}
	for name, fn := range map[string]func(tx eventhook.Tx) error{
		"update": func(tx eventhook.Tx) error { return tx.UpdateEventHook(h) },
		"delete": func(tx eventhook.Tx) error { return tx.DeleteEventHook(h.ID) },
		"lock":   func(tx eventhook.Tx) error { _, err := tx.EventHookForUpdate(h.ID); return err },
	} {
		if err := s.UpdateEventHooks(ctx, fn); !errs.Is(err, errs.NotFound) {
			t.Errorf("%s of a missing hook: %v", name, err)
		}
	}
}

func testRollback(t *testing.T, s eventhook.Store) {
	ctx := context.Background()
	h := sample("r", time.Now().UTC().Truncate(time.Millisecond))
	boom := errors.New("boom")
	err := s.UpdateEventHooks(ctx, func(tx eventhook.Tx) error {
		if err := tx.InsertEventHook(h); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("rollback: %v", err)
	}
	if all, _ := s.EventHooks(ctx); len(all) != 0 {
		t.Fatalf("a rolled-back hook was stored: %+v", all)
	}
}
