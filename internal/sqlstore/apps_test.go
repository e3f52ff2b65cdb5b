package sqlstore_test

import (
	"testing"

	"github.com/gatehouse/gatehouse/internal/catalog/conformance"
	"github.com/gatehouse/gatehouse/internal/sqlstore"
	"github.com/gatehouse/gatehouse/internal/sqlstore/storetest"
)

func catalogStores(db *sqlstore.DB) conformance.Stores {
	return conformance.Stores{Catalog: db.Catalog(), Directory: db.Directory()}
}

func TestCatalogConformanceSQLite(t *testing.T) {
	conformance.Run(t, func(t *testing.T) conformance.Stores { return catalogStores(storetest.SQLite(t)) })
}

func TestCatalogConformancePostgres(t *testing.T) {
	conformance.Run(t, func(t *testing.T) conformance.Stores { return catalogStores(storetest.Postgres(t)) })
}
