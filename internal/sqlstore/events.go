package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

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
// order of writing), or, with q.Polling, in commit order (pollOrder). The
// cursor of a published-order page is "<published ms>.<seq>" of its last
// event (a bare sequence number, the cursor of earlier versions, is
// accepted too); that of a polling page is "c<xid>.<seq>" (cursor, pollCursor).
// It is returned when more events follow, and with q.Polling after any
// non-empty page.
//
// Every page is read in index order and stops after one page: the
// (published, seq) index unfiltered, (event_type|actor_id|outcome,
// published, seq) for those filters, and event_targets for a target.id
// filter at the top of the expression, which then drives the query; a
// polling page the same way through the commit-order indexes of migration
// 16.
func (s EventStore) Query(ctx context.Context, q audit.Query) ([]audit.Event, string, error) {
	stmt, args, ord, err := s.statement(ctx, q)
	if err != nil {
		return nil, "", err
	}
	if stmt == "" {
		return []audit.Event{}, "", nil
	}
	rows, err := s.db.query(ctx, stmt, args...)
	if err != nil {
		return nil, "", err
	}
	defer rows.Close()
	out := []audit.Event{}
	key := make([]int64, len(ord))
	dest := make([]any, len(ord)+1)
	for i := range key {
		dest[i] = &key[i]
	}
	var body string
	dest[len(ord)] = &body
	last := make([]int64, len(ord)) // the order columns of the last event
	for rows.Next() {
		if len(out) == q.Limit {
			return out, s.cursorOf(q.Polling, last), rows.Err()
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, "", err
		}
		var ev audit.Event
		if err := json.Unmarshal([]byte(body), &ev); err != nil {
			return nil, "", fmt.Errorf("decode event %d: %w", key[len(key)-1], err)
		}
		out = append(out, ev)
		copy(last, key)
	}
	if q.Polling && len(out) > 0 {
		return out, s.cursorOf(q.Polling, last), rows.Err()
	}
	return out, "", rows.Err()
}

// statement builds the query of a page: its text and arguments, and the
// order columns it selects before body. An empty text: no event matches.
func (s EventStore) statement(ctx context.Context, q audit.Query) (string, []any, []string, error) {
	pg := s.db.dialect == Postgres
	// ord are the order (and cursor) columns, pubCol the published time,
	// prefixed "t.t_" when event_targets drives the query.
	ord := []string{"published", "seq"}
	if q.Polling {
		ord = s.pollOrder()
	}
	pubCol, from := "published", "events"
	var where []string
	var args []any
	rest := q.Filter
	if target, others, ok := splitTarget(q.Filter); ok {
		pubCol = "t.t_published"
		for i, c := range ord {
			ord[i] = "t.t_" + c
		}
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
			return "", nil, nil, err
		} else if ts != nil {
			types, rest = ts, others
			if len(types) == 0 {
				return "", nil, nil, nil
			}
		}
	}
	switch {
	case q.Polling:
		// Only transactions older than every one still running here: one
		// that commits after this read has a larger id than any event
		// listed.
		if pg {
			where = append(where, ord[0]+" < "+pgPollHorizon)
		}
		var key []int64
		if q.After != "" {
			xid, seq, err := s.pollCursor(ctx, q.After)
			if err != nil {
				return "", nil, nil, err
			}
			key = []int64{xid, seq}
		} else if !q.Since.IsZero() {
			xid, seq, ok, err := s.pollStart(ctx, q.Since)
			if err != nil {
				return "", nil, nil, err
			}
			if ok {
				key = []int64{xid, seq}
			}
		}
		if key != nil {
			if !pg {
				key = key[1:]
			}
			where, args = append(where, rowCompare(ord, ">")), append(args, anys(key)...)
		}
	case q.After != "":
		pub, seq, err := s.cursor(ctx, q.After)
		if err != nil {
			return "", nil, nil, err
		}
		op := ">"
		if q.Descending {
			op = "<"
		}
		where, args = append(where, rowCompare(ord, op)), append(args, pub, seq)
	}
	if rest != nil {
		w, a, err := s.db.eventFilterSQL(rest)
		if err != nil {
			return "", nil, nil, err
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
	orderBy := func(cols []string) string {
		out := make([]string, len(cols))
		for i, c := range cols {
			out[i] = c + dir
		}
		return " ORDER BY " + strings.Join(out, ", ")
	}
	cols := strings.Join(ord, ", ")
	stmt := "SELECT " + cols + ", body FROM " + from
	if len(where) > 0 {
		stmt += " WHERE " + strings.Join(where, " AND ")
	}
	if types != nil {
		// One ordered arm per type, merged (ord is unprefixed: no target).
		arms := make([]string, len(types))
		var all []any
		for i, t := range types {
			cond := " WHERE event_type = ?"
			if len(where) > 0 {
				cond += " AND " + strings.Join(where, " AND ")
			}
			arms[i] = "SELECT * FROM (SELECT " + cols + ", body FROM events" + cond + orderBy(ord) + " LIMIT ?) a" + strconv.Itoa(i)
			all = append(append(append(all, t), args...), q.Limit+1)
		}
		stmt = "SELECT " + cols + ", body FROM (" + strings.Join(arms, " UNION ALL ") + ") m" + orderBy(ord) + " LIMIT ?"
		args = all
	} else {
		stmt += orderBy(ord) + " LIMIT ?"
	}
	return stmt, append(args, q.Limit+1), ord, nil
}

// pollOrder is commit order, the order of a polling page. SQLite: seq, as
// write transactions run one at a time and take their sequence numbers
// inside (Tx.Append, Tx.takeEventSeqs). PostgreSQL: the writing
// transaction's id, then seq (migration 16), read only below the xmin of
// the query's snapshot.
func (s EventStore) pollOrder() []string {
	if s.db.dialect == Postgres {
		return []string{"xid", "seq"}
	}
	return []string{"seq"}
}

// pgPollHorizon is the id below which every transaction that may have
// written events has ended, as of the statement's snapshot: the smallest
// id the snapshot has as running (pg_snapshot_xip), or the first id not yet
// given (xmax) when none runs. The ids of the server are shared by its
// databases, so a transaction that pg_stat_activity shows in another
// database does not count (those it cannot place, such as prepared
// transactions, count). pg_stat_activity is read after the snapshot: a
// backend slot reused between its reads of database and id can only pair
// another database with an id given after the snapshot, which is not among
// the snapshot's running ones. Any transaction that commits after the
// snapshot has an id at or above this, so a cursor below it never passes
// over its events. One evaluation per statement (an InitPlan), in the
// snapshot that reads the events.
const pgPollHorizon = `(SELECT COALESCE((SELECT min(v) FROM pg_snapshot_xip(c.s) v WHERE v::xid NOT IN (SELECT backend_xid FROM pg_stat_activity
	WHERE backend_xid IS NOT NULL AND datid <> (SELECT oid FROM pg_database WHERE datname = current_database()))), pg_snapshot_xmax(c.s))::text::bigint
	FROM (SELECT pg_current_snapshot() AS s) c)`

// cursorOf renders the cursor after the event whose order columns are key.
func (s EventStore) cursorOf(polling bool, key []int64) string {
	if !polling {
		return strconv.FormatInt(key[0], 10) + "." + strconv.FormatInt(key[1], 10)
	}
	xid := int64(0)
	if len(key) == 2 {
		xid = key[0]
	}
	return "c" + strconv.FormatInt(xid, 10) + "." + strconv.FormatInt(key[len(key)-1], 10)
}

// rowCompare renders (c1, c2) op (?, ?), or c1 op ? for one column.
func rowCompare(cols []string, op string) string {
	if len(cols) == 1 {
		return cols[0] + " " + op + " ?"
	}
	return "(" + strings.Join(cols, ", ") + ") " + op + " (" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
}

func anys(v []int64) []any {
	out := make([]any, len(v))
	for i, x := range v {
		out[i] = x
	}
	return out
}

func badCursor() error {
	return &errs.Error{Kind: errs.Invalid, Code: "E0000054", Msg: "Invalid pagination properties."}
}

// cursor reads the cursor of a published-order page: "<published>.<seq>",
// a bare seq, or a polling cursor "c<xid>.<seq>" (a poller that turns to a
// bounded request continues after the same event).
func (s EventStore) cursor(ctx context.Context, c string) (pub, seq int64, err error) {
	if _, sq, ok := parsePollCursor(c); ok {
		seq = sq
	} else if strings.HasPrefix(c, "c") {
		return 0, 0, badCursor()
	} else if p, sq, ok := strings.Cut(c, "."); ok {
		pub, err1 := strconv.ParseInt(p, 10, 64)
		seq, err2 := strconv.ParseInt(sq, 10, 64)
		if err1 != nil || err2 != nil {
			return 0, 0, badCursor()
		}
		return pub, seq, nil
	} else if seq, err = strconv.ParseInt(c, 10, 64); err != nil {
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

// pollCursor reads the cursor of a polling page: "c<xid>.<seq>" (xid 0 on
// SQLite). A published-order cursor ("<published>.<seq>" or a bare seq:
// a poller's next link from before migration 16) continues after the same
// event in commit order: on PostgreSQL at its transaction's id, which is
// looked up. A bare seq must name an event, as in published order.
func (s EventStore) pollCursor(ctx context.Context, c string) (xid, seq int64, err error) {
	if x, sq, ok := parsePollCursor(c); ok {
		if s.db.dialect != Postgres {
			x = 0
		}
		return x, sq, nil
	} else if strings.HasPrefix(c, "c") {
		return 0, 0, badCursor()
	}
	p, sq, pair := strings.Cut(c, ".")
	if !pair {
		sq = c
	} else if _, err := strconv.ParseInt(p, 10, 64); err != nil {
		return 0, 0, badCursor()
	}
	if seq, err = strconv.ParseInt(sq, 10, 64); err != nil || seq < 0 {
		return 0, 0, badCursor()
	}
	if pair && s.db.dialect != Postgres {
		return 0, seq, nil
	}
	col := "0"
	if s.db.dialect == Postgres {
		col = "xid"
	}
	if err := s.db.queryRow(ctx, "SELECT "+col+" FROM events WHERE seq = ?", seq).Scan(&xid); err != nil {
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, 0, err
		}
		if !pair {
			return 0, 0, badCursor()
		}
		// Like the published order, a pair need not name an event ("0.0":
		// from the start): after seq among the events written before
		// migration 16, then every later one.
		xid = 0
	}
	return xid, seq, nil
}

// parsePollCursor parses "c<xid>.<seq>".
func parsePollCursor(c string) (xid, seq int64, ok bool) {
	rest, ok := strings.CutPrefix(c, "c")
	if !ok {
		return 0, 0, false
	}
	x, sq, ok := strings.Cut(rest, ".")
	if !ok {
		return 0, 0, false
	}
	xid, err1 := strconv.ParseInt(x, 10, 64)
	seq, err2 := strconv.ParseInt(sq, 10, 64)
	if err1 != nil || err2 != nil || xid < 0 || seq < 0 {
		return 0, 0, false
	}
	return xid, seq, true
}

// pollSlack is how far before since the first page of a polling request
// starts walking commit order (pollStart): an event committed more than
// this long after it was published, or on a node whose clock is behind
// by more, may be left out of that page even though published after
// since. Later pages follow the cursor, which is exact.
const pollSlack = 5 * time.Minute

// pollStart finds where the first page of a polling request starts in
// commit order: after the last event published pollSlack before since
// (one seek in the published index, backwards); since itself then selects
// by published time. ok is false when no event is that old: from the
// beginning.
func (s EventStore) pollStart(ctx context.Context, since time.Time) (xid, seq int64, ok bool, err error) {
	col := "0"
	if s.db.dialect == Postgres {
		col = "xid"
	}
	err = s.db.queryRow(ctx, "SELECT "+col+", seq FROM events WHERE published < ? ORDER BY published DESC, seq DESC LIMIT 1", ms(since.Add(-pollSlack))).Scan(&xid, &seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, false, nil
	}
	return xid, seq, err == nil, err
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
