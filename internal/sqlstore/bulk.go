package sqlstore

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/directory"
)

// The bulk writes of the user import (directory.BulkTx): the rows that
// InsertUser and Append write for each user and event, many rows per
// statement. On SQLite a batch goes in multi-row INSERTs of a few fixed
// shapes (64, 16, 4 and 1 rows), each a prepared statement of the writer;
// event sequence numbers are assigned here, inside the write transaction
// that holds SQLite's only write lock. On PostgreSQL each table gets one
// INSERT … SELECT FROM unnest(arrays) per batch, one round trip instead of
// one per row, with the sequence numbers taken in one nextval query.

// bulkShapes are the row counts of the SQLite multi-row statements, largest
// first: n rows take at most three statements of each smaller shape.
var bulkShapes = []int{64, 16, 4, 1}

// insertRows writes rows (each of width values) into table(cols) by
// multi-row INSERTs of the bulk shapes.
func (t *Tx) insertRows(table, cols string, width int, vals []any) error {
	rows := len(vals) / width
	for rows > 0 {
		n := bulkShapes[len(bulkShapes)-1]
		for _, s := range bulkShapes {
			if s <= rows {
				n = s
				break
			}
		}
		one := "(" + strings.TrimSuffix(strings.Repeat("?, ", width), ", ") + ")"
		q := "INSERT INTO " + table + " (" + cols + ") VALUES " + strings.TrimSuffix(strings.Repeat(one+", ", n), ", ")
		if _, err := t.exec(q, vals[:n*width]...); err != nil {
			return err
		}
		vals, rows = vals[n*width:], rows-n
	}
	return nil
}

const userInsertCols = `id, login_key, status, email, first_name, last_name, profile, credentials, created, activated, status_changed, last_login, last_updated, password_changed, failed_logins, version`

// InsertUsers inserts users as InsertUser does, many per statement. A
// login already taken (or twice in us) fails the whole call with the
// login conflict.
func (t *Tx) InsertUsers(us []*directory.User) error {
	if t.db.dialect == Postgres {
		return t.insertUsersPG(us)
	}
	vals := make([]any, 0, 16*len(us))
	for _, u := range us {
		profile, creds, err := userRow(u)
		if err != nil {
			return err
		}
		u.Version = 1
		vals = append(vals, u.ID, strings.ToLower(u.Login()), string(u.Status), u.Profile.String("email"), u.Profile.String("firstName"), u.Profile.String("lastName"),
			string(profile), string(creds), ms(u.Created), msPtr(u.Activated), msPtr(u.StatusChanged), msPtr(u.LastLogin), ms(u.LastUpdated), msPtr(u.PasswordChanged), u.FailedLogins, u.Version)
	}
	err := t.insertRows("users", userInsertCols, 16, vals)
	if isUnique(err) {
		return loginConflict()
	}
	return err
}

func (t *Tx) insertUsersPG(us []*directory.User) error {
	n := len(us)
	var id, login, status, email, first, last, profile, creds = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	var created, activated, changed, lastLogin, updated, pwChanged, version = make([]int64, n), make([]*int64, n), make([]*int64, n), make([]*int64, n), make([]int64, n), make([]*int64, n), make([]int64, n)
	failed := make([]int64, n)
	for i, u := range us {
		p, c, err := userRow(u)
		if err != nil {
			return err
		}
		u.Version = 1
		id[i], login[i], status[i], email[i], first[i], last[i], profile[i], creds[i] = u.ID, strings.ToLower(u.Login()), string(u.Status),
			u.Profile.String("email"), u.Profile.String("firstName"), u.Profile.String("lastName"), string(p), string(c)
		created[i], updated[i], failed[i], version[i] = ms(u.Created), ms(u.LastUpdated), int64(u.FailedLogins), u.Version
		activated[i], changed[i], lastLogin[i], pwChanged[i] = msInt(u.Activated), msInt(u.StatusChanged), msInt(u.LastLogin), msInt(u.PasswordChanged)
	}
	_, err := t.exec(`INSERT INTO users (`+userInsertCols+`) SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[],
		?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::bigint[], ?::int[], ?::bigint[])`,
		id, login, status, email, first, last, profile, creds, created, activated, changed, lastLogin, updated, pwChanged, failed, version)
	if isUnique(err) {
		return loginConflict()
	}
	return err
}

// AppendEvents writes events as Append does, in order (their sequence
// numbers increase in the order given), many per statement.
func (t *Tx) AppendEvents(evs []audit.Event) error {
	if len(evs) == 0 {
		return nil
	}
	rows := make([]evRow, len(evs))
	for i, ev := range evs {
		r, err := eventRow(ev)
		if err != nil {
			return err
		}
		rows[i] = r
	}
	seqs, err := t.takeEventSeqs(len(rows))
	if err != nil {
		return err
	}
	for _, ev := range evs {
		t.tapped(ev)
	}
	if t.db.dialect == Postgres {
		return t.appendEventsPG(rows, seqs)
	}
	vals := make([]any, 0, 9*len(rows))
	var targets []any
	for i, r := range rows {
		vals = append(vals, seqs[i], r.uuid, r.published, r.eventType, r.severity, r.actor, r.outcome, r.targetIDs, r.body)
		for _, tg := range r.targets {
			targets = append(targets, tg, r.published, seqs[i])
		}
	}
	if err := t.insertRows("events", "seq, uuid, published, event_type, severity, actor_id, outcome, target_ids, body", 9, vals); err != nil {
		return err
	}
	return t.insertRows("event_targets", "target_id, t_published, t_seq", 3, targets)
}

// takeEventSeqs reserves n event sequence numbers, increasing. SQLite: the
// next numbers AUTOINCREMENT would give (past the largest ever used, which
// sqlite_sequence keeps); this transaction holds the write lock, and the
// explicit values move sqlite_sequence on. PostgreSQL: n nextval calls in
// one query.
func (t *Tx) takeEventSeqs(n int) ([]int64, error) {
	seqs := make([]int64, 0, n)
	if t.db.dialect == Postgres {
		rows, err := t.query(`SELECT nextval(pg_get_serial_sequence('events', 'seq')) FROM generate_series(1, ?::int)`, n)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var v int64
			if err := rows.Scan(&v); err != nil {
				return nil, err
			}
			seqs = append(seqs, v)
		}
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if len(seqs) != n {
			return nil, fmt.Errorf("event sequence: got %d numbers, want %d", len(seqs), n)
		}
		slices.Sort(seqs)
		return seqs, nil
	}
	var last int64
	if err := t.queryRow(`SELECT max(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0), COALESCE((SELECT max(seq) FROM events), 0))`).Scan(&last); err != nil {
		return nil, err
	}
	for i := range n {
		seqs = append(seqs, last+1+int64(i))
	}
	return seqs, nil
}

func (t *Tx) appendEventsPG(rows []evRow, seqs []int64) error {
	n := len(rows)
	uuid, typ, sev, actor, outcome, tids, body := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	pub := make([]int64, n)
	var tgID []string
	var tgPub, tgSeq []int64
	for i, r := range rows {
		uuid[i], typ[i], sev[i], actor[i], outcome[i], tids[i], body[i], pub[i] = r.uuid, r.eventType, r.severity, r.actor, r.outcome, r.targetIDs, r.body, r.published
		for _, tg := range r.targets {
			tgID, tgPub, tgSeq = append(tgID, tg), append(tgPub, r.published), append(tgSeq, seqs[i])
		}
	}
	if _, err := t.exec(`INSERT INTO events (seq, uuid, published, event_type, severity, actor_id, outcome, target_ids, body)
		SELECT * FROM unnest(?::bigint[], ?::text[], ?::bigint[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[])`,
		seqs, uuid, pub, typ, sev, actor, outcome, tids, body); err != nil {
		return err
	}
	if len(tgID) == 0 {
		return nil
	}
	_, err := t.exec(`INSERT INTO event_targets (target_id, t_published, t_seq) SELECT * FROM unnest(?::text[], ?::bigint[], ?::bigint[])`, tgID, tgPub, tgSeq)
	return err
}

// msInt is msPtr for a bigint array element.
func msInt(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	v := t.UnixMilli()
	return &v
}
