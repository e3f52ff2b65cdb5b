package sqlstore_test

import (
	"testing"

	"github.com/gatehouse/gatehouse/internal/mfa/conformance"
	"github.com/gatehouse/gatehouse/internal/sqlstore/storetest"
)

func TestFactorConformanceSQLite(t *testing.T) {
	conformance.Run(t, func(t *testing.T) conformance.Stores {
		db := storetest.SQLite(t)
		return conformance.Stores{Directory: db.Directory(), Factors: db.Factors()}
	})
}

func TestFactorConformancePostgres(t *testing.T) {
	conformance.Run(t, func(t *testing.T) conformance.Stores {
		db := storetest.Postgres(t)
		return conformance.Stores{Directory: db.Directory(), Factors: db.Factors()}
	})
}
