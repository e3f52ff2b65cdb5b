package sqlstore_test

import (
	"testing"

	"github.com/gatehouse/gatehouse/internal/grouprule"
	"github.com/gatehouse/gatehouse/internal/grouprule/conformance"
	"github.com/gatehouse/gatehouse/internal/sqlstore/storetest"
)

func TestGroupRuleConformanceSQLite(t *testing.T) {
	conformance.Run(t, func(t *testing.T) grouprule.Store { return storetest.SQLite(t).GroupRules() })
}

func TestGroupRuleConformancePostgres(t *testing.T) {
	conformance.Run(t, func(t *testing.T) grouprule.Store { return storetest.Postgres(t).GroupRules() })
}
