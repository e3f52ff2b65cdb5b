package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"hash/fnv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/provisioning"
)

// Jobs returns the provisioning job store.
func (db *DB) Jobs() provisioning.Store { return jobStore{db} }

type jobStore struct{ db *DB }

var _ provisioning.Tx = (*Tx)(nil)

const jobCols = `id, kind, app_id, user_id, dedupe_key, payload, state, attempts, max_attempts, run_after, lease_owner, lease_expires, last_error, created, updated, result`

func scanJob(sc scanner) (*provisioning.Job, error) {
	var (
		j                      provisioning.Job
		key, result            sql.NullString
		payload, state         string
		runAfter, created, upd int64
		leaseExpires           sql.NullInt64
	)
	if err := sc.Scan(&j.ID, &j.Kind, &j.AppID, &j.UserID, &key, &payload, &state, &j.Attempts, &j.MaxAttempts,
		&runAfter, &j.LeaseOwner, &leaseExpires, &j.LastError, &created, &upd, &result); err != nil {
		return nil, err
	}
	j.DedupeKey = key.String
	j.Payload = json.RawMessage(payload)
	j.State = provisioning.State(state)
	j.RunAfter, j.Created, j.Updated = fromMs(runAfter), fromMs(created), fromMs(upd)
	if leaseExpires.Valid {
		j.LeaseExpires = fromMs(leaseExpires.Int64)
	}
	if result.Valid {
		j.Result = json.RawMessage(result.String)
	}
	return &j, nil
}

func nullKey(k string) any {
	if k == "" {
		return nil
	}
	return k
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return ms(t)
}

func nullJSON(b json.RawMessage) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

func (s jobStore) UpdateJobs(ctx context.Context, fn func(provisioning.Tx) error) error {
	return s.db.InTx(ctx, func(t *Tx) error { return fn(t) })
}

// EnqueueJob inserts j, or coalesces it into the pending job with the same
// dedupe key in one upsert on the partial unique index over pending keys.
// A job for the key that is running is not pending, so the insert then
// adds a follow-up.
func (t *Tx) EnqueueJob(j *provisioning.Job) error {
	if j.ID == "" || j.Kind == "" {
		return errors.New("job needs an id and a kind")
	}
	got, err := scanJob(t.queryRow(`INSERT INTO jobs (`+jobCols+`)
		VALUES (?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, '', NULL, '', ?, ?, NULL)
		ON CONFLICT (dedupe_key) WHERE state = 'pending' DO UPDATE SET
			kind = excluded.kind, app_id = excluded.app_id, user_id = excluded.user_id, payload = excluded.payload,
			attempts = 0, max_attempts = excluded.max_attempts, run_after = excluded.run_after,
			last_error = '', updated = excluded.updated
		RETURNING `+jobCols,
		j.ID, j.Kind, j.AppID, j.UserID, nullKey(j.DedupeKey), string(j.Payload), j.MaxAttempts, ms(j.RunAfter), ms(j.Created), ms(j.Updated)))
	if err != nil {
		return err
	}
	*j = *got
	return nil
}

func (t *Tx) JobForUpdate(id string) (*provisioning.Job, error) {
	j, err := scanJob(t.queryRow("SELECT "+jobCols+" FROM jobs WHERE id = ?"+t.forUpdate(), id))
	return j, notFound(err, id+" (Job)")
}

func (t *Tx) SetJobState(j *provisioning.Job, from provisioning.State, owner string) (bool, error) {
	q := `UPDATE jobs SET state = ?, attempts = ?, run_after = ?, lease_owner = ?, lease_expires = ?, last_error = ?, result = ?, updated = ?
		WHERE id = ? AND state = ?`
	args := []any{string(j.State), j.Attempts, ms(j.RunAfter), j.LeaseOwner, nullTime(j.LeaseExpires), j.LastError, nullJSON(j.Result), ms(j.Updated), j.ID, string(from)}
	if owner != "" {
		q += " AND lease_owner = ?"
		args = append(args, owner)
	}
	res, err := t.exec(q, args...)
	if isUnique(err) {
		return false, &errs.Error{Kind: errs.Conflict, Msg: "Another job for the same user and app is already pending.", Err: err}
	}
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// jobKeyLockClass is the first key of the PostgreSQL advisory locks on
// dedupe keys (two-key advisory locks do not share the key space of the
// one-key migration lock).
const jobKeyLockClass = 7364

// LockKey takes a transaction-scoped advisory lock on the key's hash on
// PostgreSQL (a hash collision only makes two series wait for each
// other). SQLite transactions already run one at a time (BEGIN
// IMMEDIATE).
func (t *Tx) LockKey(dedupeKey string) error {
	if t.db.dialect != Postgres {
		return nil
	}
	h := fnv.New32a()
	h.Write([]byte(dedupeKey))
	_, err := t.exec("SELECT pg_advisory_xact_lock(?, ?)", jobKeyLockClass, int32(h.Sum32()))
	return err
}

func (t *Tx) LatestJob(dedupeKey string) (*provisioning.Job, error) {
	j, err := scanJob(t.queryRow("SELECT "+jobCols+" FROM jobs WHERE dedupe_key = ? ORDER BY seq DESC LIMIT 1", dedupeKey))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return j, err
}

// ClaimJob leases one due job in a single UPDATE … WHERE id = (SELECT …)
// RETURNING. On PostgreSQL the inner SELECT takes the row with FOR UPDATE
// SKIP LOCKED, so concurrent claimers pass over each other's rows; on
// SQLite the statement runs under the single writer connection and is
// atomic by itself. Jobs whose lease expired are claimed first.
func (s jobStore) ClaimJob(ctx context.Context, c provisioning.Claim) (*provisioning.Job, error) {
	if len(c.Kinds) == 0 {
		return nil, nil
	}
	in := "?" + strings.Repeat(", ?", len(c.Kinds)-1)
	lock := ""
	if s.db.dialect == Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	set := `UPDATE jobs SET state = 'running', lease_owner = ?, lease_expires = ?, attempts = attempts + 1, updated = ? WHERE id = (`
	ret := `) RETURNING ` + jobCols
	expired := set + `SELECT j.id FROM jobs j WHERE j.state = 'running' AND j.lease_expires <= ? AND j.kind IN (` + in + `)
		ORDER BY j.lease_expires, j.seq LIMIT 1` + lock + ret
	due := set + `SELECT j.id FROM jobs j WHERE j.state = 'pending' AND j.run_after <= ? AND j.kind IN (` + in + `)
		AND (j.dedupe_key IS NULL OR NOT EXISTS (SELECT 1 FROM jobs r WHERE r.dedupe_key = j.dedupe_key AND r.state = 'running'))
		ORDER BY j.run_after, j.seq LIMIT 1` + lock + ret
	args := []any{c.Owner, ms(c.LeaseUntil), ms(c.Now), ms(c.Now)}
	for _, k := range c.Kinds {
		args = append(args, k)
	}
	for _, q := range []string{expired, due} {
		j, err := scanJob(s.db.w.QueryRowContext(ctx, s.db.rebind(q), args...))
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return j, nil
	}
	return nil, nil
}

func (s jobStore) RenewJobLease(ctx context.Context, id, owner string, until, now time.Time) (bool, error) {
	res, err := s.db.exec(ctx, "UPDATE jobs SET lease_expires = ?, updated = ? WHERE id = ? AND state = 'running' AND lease_owner = ?", ms(until), ms(now), id, owner)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (s jobStore) Job(ctx context.Context, id string) (*provisioning.Job, error) {
	j, err := scanJob(s.db.queryRow(ctx, "SELECT "+jobCols+" FROM jobs WHERE id = ?", id))
	return j, notFound(err, id+" (Job)")
}

func (s jobStore) jobs(ctx context.Context, q string, args ...any) ([]*provisioning.Job, error) {
	rows, err := s.db.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*provisioning.Job{}
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return out, rows.Err()
}

func (s jobStore) Jobs(ctx context.Context, f provisioning.Filter, after string, limit int) ([]*provisioning.Job, error) {
	var where []string
	var args []any
	for _, c := range []struct{ col, v string }{{"app_id", f.AppID}, {"user_id", f.UserID}, {"kind", f.Kind}, {"state", string(f.State)}} {
		if c.v != "" {
			where, args = append(where, c.col+" = ?"), append(args, c.v)
		}
	}
	if after != "" {
		where, args = append(where, "seq < (SELECT seq FROM jobs WHERE id = ?)"), append(args, after)
	}
	q := "SELECT " + jobCols + " FROM jobs"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY seq DESC LIMIT ?"
	return s.jobs(ctx, q, append(args, limit)...)
}

func (s jobStore) JobCounts(ctx context.Context, appID string) (map[provisioning.State]int, error) {
	q, args := "SELECT state, COUNT(*) FROM jobs", []any{}
	if appID != "" {
		q, args = q+" WHERE app_id = ?", append(args, appID)
	}
	rows, err := s.db.query(ctx, q+" GROUP BY state", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[provisioning.State]int{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[provisioning.State(st)] = n
	}
	return out, rows.Err()
}

func (s jobStore) RecentFailedJobs(ctx context.Context, appID string, limit int) ([]*provisioning.Job, error) {
	q, args := "SELECT "+jobCols+" FROM jobs WHERE state = 'failed'", []any{}
	if appID != "" {
		q, args = q+" AND app_id = ?", append(args, appID)
	}
	return s.jobs(ctx, q+" ORDER BY updated DESC, seq DESC LIMIT ?", append(args, limit)...)
}

func (s jobStore) DeleteFinishedJobs(ctx context.Context, before time.Time, limit int) (int, error) {
	res, err := s.db.exec(ctx, `DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE state IN ('succeeded', 'canceled') AND updated < ?
		ORDER BY updated LIMIT ?)`, ms(before), limit)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}
