package sqlstore

import (
	"context"
	"time"
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
