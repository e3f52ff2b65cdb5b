package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/errs"
)

// Events returns the system-log store.
func (db *DB) Events() EventStore { return EventStore{db} }

// EventStore reads the system log.
type EventStore struct{ db *DB }

// Append writes one event in its own transaction, for events that record
// no other change (a failed sign-in, for example).
func (s EventStore) Append(ctx context.Context, ev audit.Event) error {
	return s.db.InTx(ctx, func(t *Tx) error { return t.Append(ev) })
}

// AppendBatch writes events in one transaction, in order: the bulk path
// for loading a system log (a migration, a benchmark).
func (s EventStore) AppendBatch(ctx context.Context, evs []audit.Event) error {
	return s.db.InTx(ctx, func(t *Tx) error {
		for _, ev := range evs {
			if err := t.Append(ev); err != nil {
				return err
			}
		}
		return nil
	})
}

// Query lists events. The cursor is the sequence number of the last event
// of the previous page.
func (s EventStore) Query(ctx context.Context, q audit.Query) ([]audit.Event, string, error) {
	var where []string
	var args []any
	if !q.Since.IsZero() {
		where, args = append(where, "published >= ?"), append(args, ms(q.Since))
	}
	if !q.Until.IsZero() {
		where, args = append(where, "published < ?"), append(args, ms(q.Until))
	}
	if q.After != "" {
		seq, err := strconv.ParseInt(q.After, 10, 64)
		if err != nil {
			return nil, "", &errs.Error{Kind: errs.Invalid, Code: "E0000054", Msg: "Invalid pagination properties."}
		}
		op := ">"
		if q.Descending {
			op = "<"
		}
		where, args = append(where, "seq "+op+" ?"), append(args, seq)
	}
	if q.Filter != nil {
		w, a, err := s.db.eventFilterSQL(q.Filter)
		if err != nil {
			return nil, "", err
		}
		where, args = append(where, w), append(args, a...)
	}
	for _, term := range strings.Fields(q.Q) {
		if len(term) > 40 {
			term = term[:40]
		}
		esc := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(term))
		where, args = append(where, `lower(body) LIKE ? ESCAPE '\'`), append(args, "%"+esc+"%")
	}
	stmt := "SELECT seq, body FROM events"
	if len(where) > 0 {
		stmt += " WHERE " + strings.Join(where, " AND ")
	}
	if q.Descending {
		stmt += " ORDER BY seq DESC"
	} else {
		stmt += " ORDER BY seq"
	}
	stmt += " LIMIT ?"
	args = append(args, q.Limit+1)
	rows, err := s.db.query(ctx, stmt, args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	out := []audit.Event{}
	var last int64
	for rows.Next() {
		var seq int64
		var body string
		if err := rows.Scan(&seq, &body); err != nil {
			return nil, "", err
		}
		if len(out) == q.Limit {
			return out, strconv.FormatInt(last, 10), rows.Err()
		}
		var ev audit.Event
		if err := json.Unmarshal([]byte(body), &ev); err != nil {
			return nil, "", fmt.Errorf("decode event %d: %w", seq, err)
		}
		out = append(out, ev)
		last = seq
	}
	return out, "", rows.Err()
}
