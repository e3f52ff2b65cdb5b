package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/filter"
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
// for loading a system log (a migration, a benchmark), many rows per
// statement (Tx.AppendEvents).
func (s EventStore) AppendBatch(ctx context.Context, evs []audit.Event) error {
	return s.db.InTx(ctx, func(t *Tx) error { return t.AppendEvents(evs) })
}

// Query lists events in published order (then by sequence number, the
// order of writing). The cursor is "<published ms>.<seq>" of the last event
// of the previous page; a bare sequence number (the cursor of earlier
// versions) is accepted too. It is returned when more events follow, and
// with q.Polling after any non-empty page.
//
// Every page is read in index order and stops after one page: the
// (published, seq) index unfiltered, (event_type|actor_id|outcome,
// published, seq) for those filters, and event_targets for a target.id
// filter at the top of the expression, which then drives the query.
func (s EventStore) Query(ctx context.Context, q audit.Query) ([]audit.Event, string, error) {
	pubCol, seqCol, from := "published", "seq", "events"
	var where []string
	var args []any
	rest := q.Filter
	if target, others, ok := splitTarget(q.Filter); ok {
		pubCol, seqCol = "t.t_published", "t.t_seq"
		from = "event_targets t JOIN events e ON e.seq = t.t_seq"
		where, args = append(where, "t.target_id = ?"), append(args, target)
		rest = others
	}
	if !q.Since.IsZero() {
		where, args = append(where, pubCol+" >= ?"), append(args, ms(q.Since))
	}
	if !q.Until.IsZero() {
		where, args = append(where, pubCol+" < ?"), append(args, ms(q.Until))
	}
	// An event type prefix (LIKE cannot use the index: SQLite's never,
	// PostgreSQL's unless the collation is C): the event
	// types it matches, each then read in order through the type index and
	// merged, so a page never sorts every match nor walks past a burst of
	// other events.
	var types []string
	if prefix, others, ok := splitTerm(rest, isTypePrefix); ok && from == "events" {
		if ts, err := s.typesWithPrefix(ctx, prefix); err != nil {
			return nil, "", err
		} else if ts != nil {
			types, rest = ts, others
			if len(types) == 0 {
				return []audit.Event{}, "", nil
			}
		}
	}
	if q.After != "" {
		pub, seq, err := s.cursor(ctx, q.After)
		if err != nil {
			return nil, "", err
		}
		op := ">"
		if q.Descending {
			op = "<"
		}
		where, args = append(where, "("+pubCol+", "+seqCol+") "+op+" (?, ?)"), append(args, pub, seq)
	}
	if rest != nil {
		w, a, err := s.db.eventFilterSQL(rest)
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
	dir := ""
	if q.Descending {
		dir = " DESC"
	}
	order := " ORDER BY " + pubCol + dir + ", " + seqCol + dir + " LIMIT ?"
	stmt := "SELECT " + pubCol + ", " + seqCol + ", body FROM " + from
	if len(where) > 0 {
		stmt += " WHERE " + strings.Join(where, " AND ")
	}
	if types != nil {
		// One ordered arm per type, merged.
		arms := make([]string, len(types))
		var all []any
		for i, t := range types {
			cond := " WHERE event_type = ?"
			if len(where) > 0 {
				cond += " AND " + strings.Join(where, " AND ")
			}
			arms[i] = "SELECT * FROM (SELECT published, seq, body FROM events" + cond + order + ") a" + strconv.Itoa(i)
			all = append(append(append(all, t), args...), q.Limit+1)
		}
		stmt = "SELECT published, seq, body FROM (" + strings.Join(arms, " UNION ALL ") + ") m ORDER BY published" + dir + ", seq" + dir + " LIMIT ?"
		args = all
	} else {
		stmt += order
	}
	args = append(args, q.Limit+1)
	rows, err := s.db.query(ctx, stmt, args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	out := []audit.Event{}
	var lastPub, lastSeq int64
	for rows.Next() {
		var pub, seq int64
		var body string
		if err := rows.Scan(&pub, &seq, &body); err != nil {
			return nil, "", err
		}
		if len(out) == q.Limit {
			return out, strconv.FormatInt(lastPub, 10) + "." + strconv.FormatInt(lastSeq, 10), rows.Err()
		}
		var ev audit.Event
		if err := json.Unmarshal([]byte(body), &ev); err != nil {
			return nil, "", fmt.Errorf("decode event %d: %w", seq, err)
		}
		out = append(out, ev)
		lastPub, lastSeq = pub, seq
	}
	if q.Polling && len(out) > 0 {
		return out, strconv.FormatInt(lastPub, 10) + "." + strconv.FormatInt(lastSeq, 10), rows.Err()
	}
	return out, "", rows.Err()
}

func badCursor() error {
	return &errs.Error{Kind: errs.Invalid, Code: "E0000054", Msg: "Invalid pagination properties."}
}

// cursor reads a page cursor: "<published>.<seq>", or a bare seq.
func (s EventStore) cursor(ctx context.Context, c string) (pub, seq int64, err error) {
	if p, sq, ok := strings.Cut(c, "."); ok {
		pub, err1 := strconv.ParseInt(p, 10, 64)
		seq, err2 := strconv.ParseInt(sq, 10, 64)
		if err1 != nil || err2 != nil {
			return 0, 0, badCursor()
		}
		return pub, seq, nil
	}
	seq, err = strconv.ParseInt(c, 10, 64)
	if err != nil {
		return 0, 0, badCursor()
	}
	if err := s.db.queryRow(ctx, "SELECT published FROM events WHERE seq = ?", seq).Scan(&pub); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return 0, 0, badCursor()
		}
		return 0, 0, err
	}
	return pub, seq, nil
}

// maxPrefixTypes bounds the event types a prefix filter is expanded to;
// beyond it the prefix is an ordinary condition.
const maxPrefixTypes = 64

// maxEventTypes bounds the distinct event types PostgreSQL lists to expand
// a prefix (see typesWithPrefix).
const maxEventTypes = 1000

// typesWithPrefix lists the event types that start with prefix, one index
// seek each (SQLite, binary collation: the matches are contiguous). nil
// means too many to expand.
//
// PostgreSQL: the type index is in the database's collation, where the
// types that start with a prefix need not be contiguous, and LIKE cannot
// use it (unless the collation is C): every distinct type is listed by a
// loose scan of the index (one seek per type, in one recursive query), up
// to maxEventTypes, and those with the prefix are kept.
func (s EventStore) typesWithPrefix(ctx context.Context, prefix string) ([]string, error) {
	if s.db.dialect == Postgres {
		rows, err := s.db.query(ctx, `WITH RECURSIVE t(e) AS (SELECT min(event_type) FROM events
			UNION ALL SELECT (SELECT min(event_type) FROM events WHERE event_type > t.e) FROM t WHERE t.e IS NOT NULL)
			SELECT e FROM t WHERE e IS NOT NULL LIMIT ?`, maxEventTypes+1)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		out, all := []string{}, 0
		for rows.Next() {
			var t string
			if err := rows.Scan(&t); err != nil {
				return nil, err
			}
			if all++; all > maxEventTypes {
				return nil, rows.Err()
			}
			if strings.HasPrefix(t, prefix) {
				if len(out) == maxPrefixTypes {
					return nil, rows.Err()
				}
				out = append(out, t)
			}
		}
		return out, rows.Err()
	}
	hi := prefix + "\U0010FFFF"
	out := []string{}
	cur, op := prefix, ">="
	for {
		var t string
		err := s.db.queryRow(ctx, "SELECT event_type FROM events WHERE event_type "+op+" ? AND event_type < ? ORDER BY event_type LIMIT 1", cur, hi).Scan(&t)
		if errors.Is(err, sql.ErrNoRows) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if len(out) == maxPrefixTypes {
			return nil, nil
		}
		out = append(out, t)
		cur, op = t, ">"
	}
}

// splitTarget finds a target.id equality at the top of a filter (alone or
// in a chain of ands) and returns its value and the rest of the filter.
func splitTarget(e filter.Expr) (string, filter.Expr, bool) {
	return splitTerm(e, func(c *filter.Compare) bool { return c.Attr == "target.id" && c.Op == filter.OpEq })
}

func isTypePrefix(c *filter.Compare) bool { return c.Attr == "eventType" && c.Op == filter.OpSw }

// splitTerm finds a string comparison match accepts at the top of a filter
// (alone or in a chain of ands) and returns its value and the rest.
func splitTerm(e filter.Expr, match func(*filter.Compare) bool) (string, filter.Expr, bool) {
	switch n := e.(type) {
	case *filter.Compare:
		if match(n) && n.Value.Kind == filter.KindString {
			return n.Value.Str, nil, true
		}
	case *filter.Logical:
		if n.Op != filter.And {
			return "", nil, false
		}
		if v, rest, ok := splitTerm(n.Left, match); ok {
			return v, and(rest, n.Right), true
		}
		if v, rest, ok := splitTerm(n.Right, match); ok {
			return v, and(n.Left, rest), true
		}
	}
	return "", nil, false
}

func and(a, b filter.Expr) filter.Expr {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	return &filter.Logical{Op: filter.And, Left: a, Right: b}
}
