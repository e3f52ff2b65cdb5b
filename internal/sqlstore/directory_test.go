package sqlstore_test

import (
	"testing"

	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/directory/conformance"
	"github.com/gatehouse/gatehouse/internal/sqlstore/storetest"
)

func TestDirectoryConformanceSQLite(t *testing.T) {
	conformance.Run(t, func(t *testing.T) directory.Store { return storetest.SQLite(t).Directory() })
}

func TestDirectoryConformancePostgres(t *testing.T) {
	conformance.Run(t, func(t *testing.T) directory.Store { return storetest.Postgres(t).Directory() })
}
