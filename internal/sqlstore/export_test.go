package sqlstore

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
)

// MigrateUpTo applies the migrations up to a version, for tests of a
// migration's effect on rows written before it.
func (db *DB) MigrateUpTo(ctx context.Context, version int) ([]string, error) {
	return db.migrate(ctx, version)
}

// Exec runs a statement on the writer, for tests that write rows as an
// older Gatehouse did.
func (db *DB) Exec(ctx context.Context, q string, args ...any) error {
	_, err := db.w.ExecContext(ctx, db.rebind(q), args...)
	return err
}

// SetGroupWait sets the event log writer's wait for requests in progress
// until the test ends.
func SetGroupWait(t interface{ Cleanup(func()) }, d time.Duration) {
	old := groupWait
	groupWait = d
	t.Cleanup(func() { groupWait = old })
}

// ExplainEvents returns the plan of the statement of an events page, with
// PostgreSQL's sequential scans and sorts priced out, so that a plan
// without a Sort shows an index that gives the page's order.
func (s EventStore) ExplainEvents(ctx context.Context, q audit.Query) (string, error) {
	stmt, args, _, err := s.statement(ctx, q)
	if err != nil || stmt == "" {
		return "", err
	}
	conn, err := s.db.r.Conn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	explain := "EXPLAIN QUERY PLAN "
	if s.db.dialect == Postgres {
		explain = "EXPLAIN "
		for _, set := range []string{"SET enable_seqscan = off", "SET enable_sort = off"} {
			if _, err := conn.ExecContext(ctx, set); err != nil {
				return "", err
			}
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "RESET ALL")
	}
	rows, err := conn.QueryContext(ctx, explain+s.db.rebind(stmt), args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out strings.Builder
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		out.WriteString(fmt.Sprint(vals[len(vals)-1]) + "\n")
	}
	return out.String(), rows.Err()
}
