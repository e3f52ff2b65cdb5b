package sqlstore_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/ids"
	"github.com/gatehouse/gatehouse/internal/session"
	"github.com/gatehouse/gatehouse/internal/sqlstore"
	"github.com/gatehouse/gatehouse/internal/sqlstore/storetest"
)

// TestSessionsStore: a session keeps its second-factor time and its own
// idle timeout on both databases, and the manager slides and ends it by
// that timeout rather than the configured one.
func TestSessionsStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		src := ids.NewSource(nil)
		now := time.Now().UTC().Truncate(time.Millisecond)
		u := &directory.User{ID: src.New(ids.User), Status: directory.Active, Created: now, LastUpdated: now, Profile: directory.Profile{"login": "s@example.com"}}
		if err := db.Directory().Update(ctx, func(tx directory.Tx) error { return tx.InsertUser(u) }); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		clock := now
		m := &session.Manager{Store: db.Sessions(), IDs: src, Idle: 2 * time.Hour, Max: 12 * time.Hour,
			Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }}
		set := func(t time.Time) { mu.Lock(); clock = t; mu.Unlock() }
		factor := now.Add(-time.Minute)
		value, s, err := m.StartWith(ctx, u.ID, "192.0.2.1", "ua", session.StartOptions{AMR: []string{"pwd", "otp", "mfa"}, MFATime: factor,
			Idle: 10 * time.Minute, Max: time.Hour, AuthTime: now.Add(-2 * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.Check(ctx, value)
		if err != nil {
			t.Fatal(err)
		}
		if !got.MFATime.Equal(factor) || got.IdleTimeout != 10*time.Minute || !got.IdleExpires.Equal(now.Add(10*time.Minute)) ||
			!got.Expires.Equal(now.Add(time.Hour)) || !got.AuthTime.Equal(now.Add(-2*time.Minute)) || len(got.AMR) != 3 || got.ID != s.ID {
			t.Fatalf("session read back as %+v", got)
		}
		// Sliding uses the session's 10 minutes, not the manager's 2 hours.
		set(now.Add(8 * time.Minute))
		got, err = m.Check(ctx, value)
		if err != nil || !got.IdleExpires.Equal(now.Add(18*time.Minute)) {
			t.Fatalf("slid to %v (%v)", got.IdleExpires, err)
		}
		set(now.Add(29 * time.Minute))
		if _, err := m.Check(ctx, value); err != session.ErrNoSession {
			t.Fatalf("past the idle timeout: %v", err)
		}
		// Without options: no factor time, the manager's timeouts.
		v2, _, err := m.Start(ctx, u.ID, []string{"pwd"}, "192.0.2.1", "ua")
		if err != nil {
			t.Fatal(err)
		}
		got, err = m.Check(ctx, v2)
		if err != nil || !got.MFATime.IsZero() || got.IdleTimeout != 0 || !got.IdleExpires.Equal(clock.Truncate(time.Millisecond).Add(2*time.Hour)) {
			t.Fatalf("plain session: %+v %v", got, err)
		}
		// A replacement keeps the end of the session it replaces.
		end := clock.Add(20 * time.Minute)
		v3, _, err := m.StartWith(ctx, u.ID, "", "", session.StartOptions{Max: time.Hour, Expires: end})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := m.Check(ctx, v3); err != nil || !got.Expires.Equal(end.Truncate(time.Millisecond)) || got.IdleExpires.After(got.Expires) {
			t.Fatalf("replacement: %+v %v", got, err)
		}
	})
}

// TestPendingReplace: storing a waiting request under an id that has one
// replaces it, also when requests store it at the same moment (the
// Authentication API's state, a second sign-in step, a passkey ceremony
// asked for again).
func TestPendingReplace(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := context.Background()
		s := db.Sessions()
		exp := time.Now().Add(time.Minute)
		if err := s.PutPending(ctx, "p1", []byte(`{"n":1}`), exp); err != nil {
			t.Fatal(err)
		}
		if err := s.PutPending(ctx, "p1", []byte(`{"n":2}`), exp.Add(time.Minute)); err != nil {
			t.Fatalf("replacing a pending request: %v", err)
		}
		if b, err := s.Pending(ctx, "p1"); err != nil || string(b) != `{"n":2}` {
			t.Fatalf("Pending = %s, %v; want the second body", b, err)
		}
		var wg sync.WaitGroup
		for i := 0; i < 8; i++ {
			wg.Go(func() {
				if err := s.PutPending(ctx, "p2", []byte(`{}`), exp); err != nil {
					t.Errorf("concurrent put: %v", err)
				}
			})
		}
		wg.Wait()
		if _, err := s.Pending(ctx, "p2"); err != nil {
			t.Fatal(err)
		}
	})
}
