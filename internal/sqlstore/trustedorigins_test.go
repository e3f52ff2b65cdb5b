package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/ids"
	"github.com/gatehouse/gatehouse/internal/sqlstore"

	"github.com/gatehouse/gatehouse/internal/sqlstore/storetest"
	"github.com/gatehouse/gatehouse/internal/trustedorigin"
	"github.com/gatehouse/gatehouse/internal/trustedorigin/conformance"
)

func TestTrustedOriginConformanceSQLite(t *testing.T) {
	conformance.Run(t, func(t *testing.T) trustedorigin.Store { return storetest.SQLite(t).TrustedOrigins() })
}

func TestTrustedOriginConformancePostgres(t *testing.T) {
	conformance.Run(t, func(t *testing.T) trustedorigin.Store { return storetest.Postgres(t).TrustedOrigins() })
}

func TestTrustedOriginCacheAcrossNodesSQLite(t *testing.T) {
	testTrustedOriginCacheAcrossNodes(t, storetest.SQLite(t))
}

func TestTrustedOriginCacheAcrossNodesPostgres(t *testing.T) {
	testTrustedOriginCacheAcrossNodes(t, storetest.Postgres(t))
}

// testTrustedOriginCacheAcrossNodes: a change made through one node's
// service governs the next lookup of another node's cache (each lookup
// reads the version), and measures a lookup.
func testTrustedOriginCacheAcrossNodes(t *testing.T, db *sqlstore.DB) {
	ctx := context.Background()
	src := ids.NewSource(nil)
	svc := &trustedorigin.Service{Store: db.TrustedOrigins(), IDs: src, Now: time.Now, Events: audit.Builder{Now: time.Now, UUID: func() string { return src.New("") }}}
	a, b := &trustedorigin.Cache{Store: db.TrustedOrigins()}, &trustedorigin.Cache{Store: db.TrustedOrigins()}
	const spa = "http://127.0.0.1:5173"
	for _, c := range []*trustedorigin.Cache{a, b} {
		if ok, err := c.Allows(ctx, spa, trustedorigin.CORS); ok || err != nil {
			t.Fatalf("before: %v %v", ok, err)
		}
	}
	o, err := svc.Create(ctx, trustedorigin.Input{Name: "SPA", Origin: spa, Scopes: []trustedorigin.Scope{{Type: trustedorigin.CORS}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*trustedorigin.Cache{a, b} {
		if ok, err := c.Allows(ctx, spa, trustedorigin.CORS); !ok || err != nil {
			t.Fatalf("after create: %v %v", ok, err)
		}
	}
	if _, err := svc.SetStatus(ctx, o.ID, trustedorigin.Inactive); err != nil {
		t.Fatal(err)
	}
	if ok, _ := b.Allows(ctx, spa, trustedorigin.CORS); ok {
		t.Fatal("another node still trusts a deactivated origin")
	}
	if _, err := svc.SetStatus(ctx, o.ID, trustedorigin.Active); err != nil {
		t.Fatal(err)
	}
	const n = 2000
	start := time.Now()
	for i := 0; i < n; i++ {
		if ok, err := a.Allows(ctx, spa, trustedorigin.CORS); !ok || err != nil {
			t.Fatal(ok, err)
		}
	}
	t.Logf("%s: one lookup (version read, origins cached) %v", db.Dialect(), time.Since(start)/n)
}
