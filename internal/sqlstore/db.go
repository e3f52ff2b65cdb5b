// Package sqlstore is the only package that speaks SQL. It implements every
// domain's Store on embedded SQLite (the default) and on PostgreSQL, with
// embedded forward-only migrations for each dialect.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver
	sqlite "modernc.org/sqlite"        // SQLite driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/errs"
)

// Dialect names the SQL dialect in use.
type Dialect int

// Supported dialects.
const (
	SQLite Dialect = iota
	Postgres
)

func (d Dialect) String() string {
	if d == Postgres {
		return "postgres"
	}
	return "sqlite"
}

// DB is an open database: a writer pool and a reader pool (the same pool on
// PostgreSQL; on SQLite a single writer connection avoids lock contention
// while readers proceed under WAL).
type DB struct {
	dialect Dialect
	w       *sql.DB
	r       *sql.DB
	// stmts caches prepared read statements by their text: parsing SQL is
	// a large part of a point lookup. Bounded; dynamic filters beyond the
	// bound run unprepared.
	stmts  sync.Map
	nstmts atomic.Int32
	// wstmts caches prepared statements on the SQLite writer connection,
	// used inside transactions (Tx.Stmt reuses the statement prepared on
	// the transaction's connection). PostgreSQL's driver caches prepared
	// statements per connection by itself.
	wstmts  sync.Map
	nwstmts atomic.Int32
	// log is the group-commit event log (EventLog), started on first use.
	logOnce sync.Once
	log     *EventLog
	// tap sees every event written (SetEventTap): event hooks.
	tap atomic.Pointer[tapRef]
}

const maxCachedStatements = 512

// prepared returns the cached prepared statement for q on the reader pool.
func (db *DB) prepared(ctx context.Context, q string) (*sql.Stmt, bool) {
	if v, ok := db.stmts.Load(q); ok {
		return v.(*sql.Stmt), true
	}
	if db.nstmts.Load() >= maxCachedStatements {
		return nil, false
	}
	st, err := db.r.PrepareContext(ctx, q)
	if err != nil {
		return nil, false
	}
	if v, loaded := db.stmts.LoadOrStore(q, st); loaded {
		st.Close()
		return v.(*sql.Stmt), true
	}
	db.nstmts.Add(1)
	return st, true
}

// writerStmt returns the prepared statement for q on the SQLite writer
// pool (a single connection), or false on PostgreSQL, before q has been
// prepared, or when the cache is full. Statements are prepared after the
// transaction that first used them ends (prepareWriter): the writer's one
// connection is busy until then.
func (db *DB) writerStmt(q string) (*sql.Stmt, bool) {
	if db.dialect != SQLite {
		return nil, false
	}
	if v, ok := db.wstmts.Load(q); ok {
		return v.(*sql.Stmt), true
	}
	return nil, false
}

// prepareWriter prepares the statements in qs on the writer pool.
func (db *DB) prepareWriter(ctx context.Context, qs []string) {
	for _, q := range qs {
		if db.nwstmts.Load() >= maxCachedStatements {
			return
		}
		if _, ok := db.wstmts.Load(q); ok {
			continue
		}
		st, err := db.w.PrepareContext(ctx, q)
		if err != nil {
			continue
		}
		if _, loaded := db.wstmts.LoadOrStore(q, st); loaded {
			st.Close()
			continue
		}
		db.nwstmts.Add(1)
	}
}

// Open opens the database named by dsn: a postgres:// or postgresql:// URL
// selects PostgreSQL; anything else is a SQLite file path.
func Open(ctx context.Context, dsn string) (*DB, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		db.SetMaxOpenConns(20)
		db.SetMaxIdleConns(20)
		db.SetConnMaxIdleTime(5 * time.Minute)
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("connect to postgres: %w", err)
		}
		return &DB{dialect: Postgres, w: db, r: db}, nil
	}
	if dir := filepath.Dir(dsn); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
	}
	base := "file:" + (&url.URL{Path: dsn}).EscapedPath() + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(15000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=cache_size(-65536)"
	w, err := sql.Open("sqlite", base+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", dsn, err)
	}
	r, err := sql.Open("sqlite", base+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	r.SetConnMaxLifetime(0)
	return &DB{dialect: SQLite, w: w, r: r}, nil
}

// Close closes the pools.
func (db *DB) Close() error {
	db.logOnce.Do(func() {}) // orders this read after a concurrent first EventLog()
	if db.log != nil {
		db.log.Close() // every queued event commits first
	}
	db.stmts.Range(func(_, v any) bool { v.(*sql.Stmt).Close(); return true })
	db.wstmts.Range(func(_, v any) bool { v.(*sql.Stmt).Close(); return true })
	err := db.w.Close()
	if db.r != db.w {
		err = errors.Join(err, db.r.Close())
	}
	return err
}

// Dialect returns the dialect in use.
func (db *DB) Dialect() Dialect { return db.dialect }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	return db.r.PingContext(ctx)
}

// Stats returns pool statistics of the writer and reader pools.
func (db *DB) Stats() (writer, reader sql.DBStats) { return db.w.Stats(), db.r.Stats() }

// rebind turns ? placeholders into $n for PostgreSQL, skipping quoted text.
func (db *DB) rebind(q string) string {
	if db.dialect != Postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	n := 0
	inStr := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		if c == '\'' {
			inStr = !inStr
		}
		if c == '?' && !inStr {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func (db *DB) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	q = db.rebind(q)
	if st, ok := db.prepared(ctx, q); ok {
		return st.QueryContext(ctx, args...)
	}
	return db.r.QueryContext(ctx, q, args...)
}

func (db *DB) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	q = db.rebind(q)
	if st, ok := db.prepared(ctx, q); ok {
		return st.QueryRowContext(ctx, args...)
	}
	return db.r.QueryRowContext(ctx, q, args...)
}

func (db *DB) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return db.w.ExecContext(ctx, db.rebind(q), args...)
}

// Tx is one transaction. It implements the Tx interface of every domain.
type Tx struct {
	db  *DB
	tx  *sql.Tx
	ctx context.Context
	// stmts holds the transaction's handles on the writer's prepared
	// statements (SQLite), so that a bulk transaction binds each once;
	// unprepared lists the statements to prepare once the transaction ends.
	stmts      map[string]*sql.Stmt
	unprepared []string
	// hookEvents are the events written for each subscriber of the
	// event tap (in hookOrder), enqueued just before the commit.
	hookEvents map[string][]audit.Event
	hookOrder  []string
}

// stmt returns the transaction's prepared statement for q, if the dialect
// caches them.
func (t *Tx) stmt(q string) (*sql.Stmt, bool) {
	if st, ok := t.stmts[q]; ok {
		return st, true
	}
	if t.db.dialect != SQLite {
		return nil, false
	}
	var st *sql.Stmt
	if ps, ok := t.db.writerStmt(q); ok {
		st = t.tx.StmtContext(t.ctx, ps)
	} else {
		// Prepared for this transaction only; for the pool afterwards.
		var err error
		if st, err = t.tx.PrepareContext(t.ctx, q); err != nil {
			return nil, false
		}
		t.unprepared = append(t.unprepared, q)
	}
	if t.stmts == nil {
		t.stmts = map[string]*sql.Stmt{}
	}
	t.stmts[q] = st
	return st, true
}

func (t *Tx) query(q string, args ...any) (*sql.Rows, error) {
	q = t.db.rebind(q)
	if st, ok := t.stmt(q); ok {
		return st.QueryContext(t.ctx, args...)
	}
	return t.tx.QueryContext(t.ctx, q, args...)
}

func (t *Tx) queryRow(q string, args ...any) *sql.Row {
	q = t.db.rebind(q)
	if st, ok := t.stmt(q); ok {
		return st.QueryRowContext(t.ctx, args...)
	}
	return t.tx.QueryRowContext(t.ctx, q, args...)
}

func (t *Tx) exec(q string, args ...any) (sql.Result, error) {
	q = t.db.rebind(q)
	if st, ok := t.stmt(q); ok {
		return st.ExecContext(t.ctx, args...)
	}
	return t.tx.ExecContext(t.ctx, q, args...)
}

// execOne runs a statement that must change a row, and returns none when
// it changed none (a duplicate that ON CONFLICT DO NOTHING skipped, or a
// row that is not there to delete).
func (t *Tx) execOne(none error, q string, args ...any) error {
	res, err := t.exec(q, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return none
	}
	return nil
}

// forUpdate is the row-locking suffix for a read that precedes a write.
// SQLite transactions are already exclusive (BEGIN IMMEDIATE).
func (t *Tx) forUpdate() string {
	if t.db.dialect == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// forUpdateOf is forUpdate for the rows of one table of a join.
func (t *Tx) forUpdateOf(table string) string {
	if t.db.dialect == Postgres {
		return " FOR UPDATE OF " + table
	}
	return ""
}

// InTx runs fn in a transaction, committing when fn returns nil. Serialization
// failures on PostgreSQL are retried a few times.
func (db *DB) InTx(ctx context.Context, fn func(*Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := db.inTx(ctx, fn)
		if err != nil && attempt < 4 && retryable(err) {
			time.Sleep(time.Duration(attempt+1) * 10 * time.Millisecond)
			continue
		}
		return err
	}
}

func (db *DB) inTx(ctx context.Context, fn func(*Tx) error) (err error) {
	stx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	t := &Tx{db: db, tx: stx, ctx: ctx}
	defer func() {
		if p := recover(); p != nil {
			_ = stx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = stx.Rollback()
		}
		if len(t.unprepared) > 0 {
			db.prepareWriter(context.WithoutCancel(ctx), t.unprepared)
		}
	}()
	if err = fn(t); err != nil {
		return err
	}
	if err = t.enqueueTapped(); err != nil {
		return err
	}
	if err = stx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func retryable(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "40001" || pg.Code == "40P01"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code() & 0xff
		return c == sqlite3.SQLITE_BUSY || c == sqlite3.SQLITE_LOCKED
	}
	return false
}

// isUnique reports whether err is a uniqueness violation.
func isUnique(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "23505"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// isForeignKey reports whether err is a foreign key violation.
func isForeignKey(err error) bool {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code == "23503"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}

func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return &errs.Error{Kind: errs.NotFound, Msg: "Not found: Resource not found: " + what, Err: err}
	}
	return err
}

// ms converts a time to the stored unit, milliseconds since the epoch.
func ms(t time.Time) int64 { return t.UnixMilli() }

func msPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}

func fromMs(v int64) time.Time { return time.UnixMilli(v).UTC() }

func fromNullMs(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMs(v.Int64)
	return &t
}

// prefixCond renders a case-insensitive prefix match on an expression that
// is already lower-cased, using the index of each dialect.
func (db *DB) prefixCond(expr, prefix string) (string, []any) {
	p := strings.ToLower(prefix)
	if db.dialect == Postgres {
		esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(p)
		return expr + " LIKE ?", []any{esc + "%"}
	}
	return "(" + expr + " >= ? AND " + expr + " < ?)", []any{p, p + "\U0010FFFF"}
}

// prefixAfter renders prefixCond(expr, prefix) AND expr > after, for an
// after that itself starts with the prefix, so that the index seek starts
// at after (SQLite keeps the first lower bound it is given, not the
// largest).
func (db *DB) prefixAfter(expr, prefix, after string) (string, []any) {
	p := strings.ToLower(prefix)
	if db.dialect == Postgres {
		esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(p)
		return "(" + expr + " > ? AND " + expr + " LIKE ?)", []any{after, esc + "%"}
	}
	return "(" + expr + " > ? AND " + expr + " < ?)", []any{after, p + "\U0010FFFF"}
}

// Optimize refreshes the planner statistics, after a bulk import for
// example (PostgreSQL otherwise plans with stale row estimates until
// autovacuum runs).
func (db *DB) Optimize(ctx context.Context) error {
	q := "PRAGMA optimize"
	if db.dialect == Postgres {
		q = "ANALYZE"
	}
	_, err := db.w.ExecContext(ctx, q)
	return err
}

// Bulk prepares the writer for a bulk load of many transactions (the user
// import) and returns the function that ends it. On SQLite the writer's
// page cache grows to cacheMB and the WAL is checkpointed by Bulk's caller
// through Checkpoint instead of after every commit that passes 1,000
// pages: with random keys in several indexes, nearly every insert dirties
// its own index pages, and checkpointing after each batch copies those
// pages to the database file again and again. Every transaction stays a
// transaction: a crash leaves whole batches, and the WAL is replayed on
// the next open. On PostgreSQL Bulk does nothing.
func (db *DB) Bulk(ctx context.Context, cacheMB int) (end func() error, err error) {
	if db.dialect != SQLite {
		return func() error { return nil }, nil
	}
	if _, err := db.w.ExecContext(ctx, fmt.Sprintf("PRAGMA cache_size = -%d", cacheMB*1024)); err != nil {
		return nil, err
	}
	if _, err := db.w.ExecContext(ctx, "PRAGMA wal_autocheckpoint = 0"); err != nil {
		return nil, err
	}
	// Statement journals (the undo of one statement that fails halfway
	// inside a transaction) in memory: in a temporary file each insert
	// paid a write(2) per page it touched, a quarter of the import's CPU.
	if _, err := db.w.ExecContext(ctx, "PRAGMA temp_store = MEMORY"); err != nil {
		return nil, err
	}
	return func() error {
		_, err1 := db.w.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)")
		_, err2 := db.w.ExecContext(ctx, "PRAGMA wal_autocheckpoint = 1000")
		_, err3 := db.w.ExecContext(ctx, "PRAGMA cache_size = -65536")
		_, err4 := db.w.ExecContext(ctx, "PRAGMA temp_store = DEFAULT")
		return errors.Join(err1, err2, err3, err4)
	}, nil
}

// Checkpoint copies the WAL into the database file (SQLite; PASSIVE, so
// readers are never blocked). PostgreSQL: nothing.
func (db *DB) Checkpoint(ctx context.Context) error {
	if db.dialect != SQLite {
		return nil
	}
	_, err := db.w.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
	return err
}

// scanAll collects every row of rows through scan and closes them; err is
// the query's error, passed through. The list is empty, never nil, when no
// row matched.
func scanAll[T any](rows *sql.Rows, err error, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// scanStrings is scanAll of a single string column.
func scanStrings(rows *sql.Rows, err error) ([]string, error) {
	return scanAll(rows, err, func(sc scanner) (s string, err error) { return s, sc.Scan(&s) })
}
