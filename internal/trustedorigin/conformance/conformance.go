// Package conformance is the behavior every trustedorigin.Store must have,
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
	"github.com/gatehouse/gatehouse/internal/ids"
	"github.com/gatehouse/gatehouse/internal/trustedorigin"
)

// Run runs the suite; newStore returns an empty store.
func Run(t *testing.T, newStore func(t *testing.T) trustedorigin.Store) {
	t.Run("RoundTrip", func(t *testing.T) { testRoundTrip(t, newStore(t)) })
	t.Run("UpdateDelete", func(t *testing.T) { testUpdateDelete(t, newStore(t)) })
	t.Run("Unique", func(t *testing.T) { testUnique(t, newStore(t)) })
	t.Run("Rollback", func(t *testing.T) { testRollback(t, newStore(t)) })
}

var src = ids.NewSource(nil)

func sample(name, origin string, at time.Time) *trustedorigin.Origin {
	return &trustedorigin.Origin{ID: src.NewOrdered(ids.TrustedOrigin, at), Name: name, Origin: origin, Status: trustedorigin.Active,
		Scopes: []string{trustedorigin.CORS, trustedorigin.Redirect}, Created: at, CreatedBy: "00uadmin", Updated: at, UpdatedBy: "00uadmin"}
}

func event(typ string) audit.Event {
	return audit.Event{UUID: src.New(ids.Event), Published: time.Now().UTC(), EventType: typ, Version: "0", Severity: audit.Info,
		Outcome: audit.Outcome{Result: audit.Success}, Target: []audit.Target{}}
}

func insert(t *testing.T, s trustedorigin.Store, o *trustedorigin.Origin) {
	t.Helper()
	if err := s.UpdateTrustedOrigins(context.Background(), func(tx trustedorigin.Tx) error {
		if err := tx.InsertTrustedOrigin(o); err != nil {
			return err
		}
		return tx.Append(event(trustedorigin.EventCreate))
	}); err != nil {
		t.Fatal(err)
	}
}

func version(t *testing.T, s trustedorigin.Store) int64 {
	t.Helper()
	v, err := s.TrustedOriginsVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func testRoundTrip(t *testing.T, s trustedorigin.Store) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	a, b := sample("a", "https://a.example.com", now), sample("b", "http://127.0.0.1:5173", now.Add(time.Second))
	b.Scopes, b.Status, b.UpdatedBy = []string{trustedorigin.Redirect}, trustedorigin.Inactive, "00uother"
	v0 := version(t, s)
	insert(t, s, b)
	insert(t, s, a)
	if v := version(t, s); v <= v0 {
		t.Fatalf("version %d after two inserts, was %d", v, v0)
	}
	got, err := s.TrustedOrigin(ctx, b.ID)
	if err != nil || !reflect.DeepEqual(got, b) {
		t.Fatalf("read back %+v (%v), want %+v", got, err, b)
	}
	all, err := s.TrustedOrigins(ctx)
	if err != nil || len(all) != 2 || all[0].ID != a.ID || !reflect.DeepEqual(all[1], b) {
		t.Fatalf("list (id order): %+v %v", all, err)
	}
	if _, err := s.TrustedOrigin(ctx, src.New(ids.TrustedOrigin)); !errs.Is(err, errs.NotFound) {
		t.Fatalf("missing origin: %v", err)
	}
}

func testUpdateDelete(t *testing.T, s trustedorigin.Store) {
	ctx := context.Background()
	o := sample("u", "https://u.example.com", time.Now().UTC().Truncate(time.Millisecond))
	insert(t, s, o)
	v0 := version(t, s)
	err := s.UpdateTrustedOrigins(ctx, func(tx trustedorigin.Tx) error {
		cur, err := tx.TrustedOriginForUpdate(o.ID)
		if err != nil {
			return err
		}
		cur.Status, cur.Origin, cur.Name, cur.Scopes = trustedorigin.Inactive, "https://v.example.com:8443", "v", []string{trustedorigin.CORS}
		cur.Updated, cur.UpdatedBy = cur.Updated.Add(time.Minute), "00uother"
		return tx.UpdateTrustedOrigin(cur)
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := s.TrustedOrigin(ctx, o.ID)
	if got.Status != trustedorigin.Inactive || got.Origin != "https://v.example.com:8443" || got.Name != "v" ||
		!reflect.DeepEqual(got.Scopes, []string{trustedorigin.CORS}) || !got.Updated.Equal(o.Updated.Add(time.Minute)) ||
		!got.Created.Equal(o.Created) || got.UpdatedBy != "00uother" || got.CreatedBy != "00uadmin" {
		t.Fatalf("after update: %+v", got)
	}
	v1 := version(t, s)
	if v1 <= v0 {
		t.Fatalf("an update left the version at %d", v1)
	}
	if err := s.UpdateTrustedOrigins(ctx, func(tx trustedorigin.Tx) error { return tx.DeleteTrustedOrigin(o.ID) }); err != nil {
		t.Fatal(err)
	}
	if _, err := s.TrustedOrigin(ctx, o.ID); !errs.Is(err, errs.NotFound) {
		t.Fatalf("deleted origin: %v", err)
	}
	if v := version(t, s); v <= v1 {
		t.Fatalf("a delete left the version at %d", v)
	}
	for name, fn := range map[string]func(tx trustedorigin.Tx) error{
		"update": func(tx trustedorigin.Tx) error { return tx.UpdateTrustedOrigin(o) },
		"delete": func(tx trustedorigin.Tx) error { return tx.DeleteTrustedOrigin(o.ID) },
		"lock":   func(tx trustedorigin.Tx) error { _, err := tx.TrustedOriginForUpdate(o.ID); return err },
	} {
		if err := s.UpdateTrustedOrigins(ctx, fn); !errs.Is(err, errs.NotFound) {
			t.Errorf("%s of a missing origin: %v", name, err)
		}
	}
}

// testUnique: a second origin with the same origin, or a name that differs
// only in case, is refused as invalid, and nothing is stored.
func testUnique(t *testing.T, s trustedorigin.Store) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Millisecond)
	insert(t, s, sample("Portal", "https://portal.example.com", now))
	v := version(t, s)
	for _, dup := range []*trustedorigin.Origin{sample("other", "https://portal.example.com", now), sample("PORTAL", "https://x.example.com", now)} {
		err := s.UpdateTrustedOrigins(ctx, func(tx trustedorigin.Tx) error { return tx.InsertTrustedOrigin(dup) })
		if !errs.Is(err, errs.Invalid) {
			t.Errorf("duplicate %s %s: %v", dup.Name, dup.Origin, err)
		}
	}
	if all, _ := s.TrustedOrigins(ctx); len(all) != 1 || version(t, s) != v {
		t.Fatalf("a refused duplicate was stored or bumped the version: %+v", all)
	}
}

func testRollback(t *testing.T, s trustedorigin.Store) {
	ctx := context.Background()
	o := sample("r", "https://r.example.com", time.Now().UTC().Truncate(time.Millisecond))
	v := version(t, s)
	boom := errors.New("boom")
	err := s.UpdateTrustedOrigins(ctx, func(tx trustedorigin.Tx) error {
		if err := tx.InsertTrustedOrigin(o); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("rollback: %v", err)
	}
	if all, _ := s.TrustedOrigins(ctx); len(all) != 0 || version(t, s) != v {
		t.Fatalf("a rolled-back origin was stored or bumped the version: %+v", all)
	}
}
