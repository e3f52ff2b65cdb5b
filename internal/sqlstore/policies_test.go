package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/ids"
	"github.com/gatehouse/gatehouse/internal/policy"
	"github.com/gatehouse/gatehouse/internal/policy/conformance"
	"github.com/gatehouse/gatehouse/internal/sqlstore"
	"github.com/gatehouse/gatehouse/internal/sqlstore/storetest"
)

func policyStores(db *sqlstore.DB) (policy.Store, func(t *testing.T) string) {
	src := ids.NewSource(nil)
	return db.Policies(), func(t *testing.T) string {
		now := time.Now().UTC().Truncate(time.Millisecond)
		a := &catalog.App{ID: src.New(ids.App), Name: "app_" + src.Secret(6), Label: "App", Status: catalog.Active, SignOnMode: catalog.SignOnModeSAML2,
			ExternalKey: src.New(ids.Instance), Created: now, LastUpdated: now}
		if err := db.Catalog().Update(context.Background(), func(tx catalog.Tx) error { return tx.InsertApp(a) }); err != nil {
			t.Fatal(err)
		}
		return a.ID
	}
}

func TestPolicyConformanceSQLite(t *testing.T) {
	conformance.Run(t, func(t *testing.T) (policy.Store, func(t *testing.T) string) { return policyStores(storetest.SQLite(t)) })
}

func TestPolicyConformancePostgres(t *testing.T) {
	conformance.Run(t, func(t *testing.T) (policy.Store, func(t *testing.T) string) {
		return policyStores(storetest.Postgres(t))
	})
}
