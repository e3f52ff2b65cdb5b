package sqlstore_test

import (
	"testing"

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
