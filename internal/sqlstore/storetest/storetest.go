// Package storetest opens fresh databases for tests: a temporary SQLite
// file, and a new database on the PostgreSQL server named by
// GATEHOUSE_TEST_POSTGRES (default postgres://postgres@127.0.0.1:5432/postgres).
// A PostgreSQL test fails, never skips, when the server cannot be reached:
// CI must run the PostgreSQL suite.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver

	"github.com/gatehouse/gatehouse/internal/sqlstore"
)

// PostgresAdminURL is the server used for PostgreSQL tests.
func PostgresAdminURL() string {
	if u := os.Getenv("GATEHOUSE_TEST_POSTGRES"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// SQLite opens a migrated database in a temporary directory.
func SQLite(t testing.TB) *sqlstore.DB {
	t.Helper()
	return open(t, filepath.Join(t.TempDir(), "gatehouse.db"))
}

// PostgresURL creates a fresh database and returns its URL; it is dropped
// when the test ends.
func PostgresURL(t testing.TB) string {
	t.Helper()
	admin := PostgresAdminURL()
	adb, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	if err := adb.Ping(); err != nil {
		t.Fatalf("PostgreSQL is required for this test and is not reachable at %s: %v (start it, or set GATEHOUSE_TEST_POSTGRES)", admin, err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "gatehouse_test_" + hex.EncodeToString(b)
	if _, err := adb.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		adb.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		adb.Close()
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// Postgres opens a migrated fresh PostgreSQL database.
func Postgres(t testing.TB) *sqlstore.DB {
	t.Helper()
	return open(t, PostgresURL(t))
}

func open(t testing.TB, dsn string) *sqlstore.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("open %s: %v", dsn, err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Each runs fn once per dialect, as subtests named sqlite and postgres.
func Each(t *testing.T, fn func(t *testing.T, db *sqlstore.DB)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}
