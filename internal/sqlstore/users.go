package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/ids"
)

// Directory returns the directory store.
func (db *DB) Directory() directory.Store { return dirStore{db} }

type dirStore struct{ db *DB }

func (s dirStore) Update(ctx context.Context, fn func(directory.Tx) error) error {
	return s.db.InTx(ctx, func(t *Tx) error { return fn(t) })
}

const userCols = `id, status, profile, credentials, created, activated, status_changed, last_login, last_updated, password_changed, failed_logins, version`

type scanner interface{ Scan(dest ...any) error }

func scanUser(sc scanner) (*directory.User, error) {
	var u directory.User
	return scanUserInto(sc, &u, nil)
}

// scanUserInto scans userCols into u, after the columns of lead.
func scanUserInto(sc scanner, u *directory.User, lead []any) (*directory.User, error) {
	var (
		status, profile, creds                        string
		created, lastUpdated                          int64
		activated, statusChanged, lastLogin, pwChange sql.NullInt64
	)
	dest := append(lead, &u.ID, &status, &profile, &creds, &created, &activated, &statusChanged, &lastLogin, &lastUpdated, &pwChange, &u.FailedLogins, &u.Version)
	if err := sc.Scan(dest...); err != nil {
		return nil, err
	}
	u.Status = directory.Status(status)
	if err := json.Unmarshal([]byte(profile), &u.Profile); err != nil {
		return nil, fmt.Errorf("decode profile of %s: %w", u.ID, err)
	}
	if err := json.Unmarshal([]byte(creds), &u.Credentials); err != nil {
		return nil, fmt.Errorf("decode credentials of %s: %w", u.ID, err)
	}
	u.Created, u.LastUpdated = fromMs(created), fromMs(lastUpdated)
	u.Activated, u.StatusChanged, u.LastLogin, u.PasswordChanged = fromNullMs(activated), fromNullMs(statusChanged), fromNullMs(lastLogin), fromNullMs(pwChange)
	return u, nil
}

// userKeyCond selects a user by id, or by login when the argument is not an id.
func userKeyCond(idOrLogin string) (string, any) {
	if ids.Valid(idOrLogin, ids.User) {
		return "id = ?", idOrLogin
	}
	return "login_key = ?", strings.ToLower(idOrLogin)
}

// errNoUserWithNUL answers a lookup by a key holding U+0000: no id or
// login holds it (the directory refuses it), and PostgreSQL would refuse
// the query itself.
var errNoUserWithNUL = sql.ErrNoRows

func (s dirStore) User(ctx context.Context, idOrLogin string) (*directory.User, error) {
	if strings.ContainsRune(idOrLogin, 0) {
		return nil, notFound(errNoUserWithNUL, "(User)")
	}
	cond, arg := userKeyCond(idOrLogin)
	u, err := scanUser(s.db.queryRow(ctx, "SELECT "+userCols+" FROM users WHERE "+cond, arg))
	return u, notFound(err, idOrLogin+" (User)")
}

func (s dirStore) PasswordHash(ctx context.Context, idOrLogin string) (string, error) {
	if strings.ContainsRune(idOrLogin, 0) {
		return "", notFound(errNoUserWithNUL, "(User)")
	}
	cond, arg := userKeyCond(idOrLogin)
	var creds string
	if err := s.db.queryRow(ctx, "SELECT credentials FROM users WHERE "+cond, arg).Scan(&creds); err != nil {
		return "", notFound(err, idOrLogin+" (User)")
	}
	var c directory.Credentials
	if err := json.Unmarshal([]byte(creds), &c); err != nil {
		return "", fmt.Errorf("decode credentials: %w", err)
	}
	return c.PasswordHash, nil
}

func (s dirStore) Users(ctx context.Context, q directory.UserQuery) ([]*directory.User, error) {
	var where []string
	var args []any
	key, err := s.db.userSortKey(q.SortBy)
	if err != nil {
		return nil, err
	}
	cmp, dir := ">", ""
	if q.SortDesc {
		cmp, dir = "<", " DESC"
	}
	if q.After != "" {
		if key == "" {
			where = append(where, "id "+cmp+" ?")
			args = append(args, q.After)
		} else {
			// The cursor row's own key: the page continues after it.
			where = append(where, "("+key+", id) "+cmp+" ((SELECT "+key+" FROM users WHERE id = ?), ?)")
			args = append(args, q.After, q.After)
		}
	}
	if q.Filter != nil {
		w, a, err := s.db.userFilterSQL(q.Filter)
		if err != nil {
			return nil, err
		}
		where, args = append(where, w), append(args, a...)
	}
	if q.Search != nil {
		w, a, err := s.db.userFilterSQL(q.Search)
		if err != nil {
			return nil, err
		}
		where, args = append(where, w), append(args, a...)
	}
	if !q.IncludeDeprovisioned && q.Filter == nil && q.Search == nil {
		where = append(where, "status <> 'DEPROVISIONED'")
	}
	// others are the conditions besides the cursor and the search.
	others := where
	if q.After != "" && key == "" {
		others = where[1:]
	}
	if q.Q != "" && key == "" && q.Filter == nil && q.Search == nil {
		// Only the search (and perhaps the deprovisioned exclusion): in
		// the order of the matched key (see searchByKey).
		var extra []string
		if !q.IncludeDeprovisioned {
			extra = append(extra, "status <> 'DEPROVISIONED'")
		}
		return s.searchByKey(ctx, q, extra)
	}
	if q.Q != "" {
		var ors []string
		var orArgs []any
		for i := range searchKeyFmt {
			c, a := s.db.prefixCond(s.db.searchKey(i, ""), q.Q)
			ors, orArgs = append(ors, c), append(orArgs, a...)
		}
		where, args = append(where, "("+strings.Join(ors, " OR ")+")"), append(args, orArgs...)
	}
	order := " ORDER BY id" + dir + " LIMIT ?"
	if key != "" {
		order = " ORDER BY " + key + dir + ", id" + dir + " LIMIT ?"
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	if q.Q != "" && key == "" && q.Limit > 0 && len(others) > 0 && s.manyMatch(ctx, q.Q) {
		// A search with a filter, in id order: a prefix matching many
		// people makes the planner join the four prefix indexes and sort
		// every match. First look through the next rows in id order only:
		// when they hold a full page, that page is the answer (later rows
		// have larger ids); otherwise the matches are few and the indexed
		// query is fast.
		probe := "SELECT " + userCols + " FROM (SELECT * FROM users"
		pargs := []any{}
		if q.After != "" {
			probe += " WHERE id " + cmp + " ?"
			pargs = append(pargs, q.After)
		}
		probe += " ORDER BY id" + dir + " LIMIT ?) users" + cond + order
		pargs = append(append(append(pargs, searchProbeRows), args...), q.Limit)
		users, err := s.db.users(ctx, probe, pargs...)
		if err != nil || len(users) == q.Limit {
			return users, err
		}
	}
	args = append(args, q.Limit)
	return s.db.users(ctx, "SELECT "+userCols+" FROM users"+cond+order, args...)
}

// searchKeyFmt are the four keys a People search (UserQuery.Q) matches by
// prefix, in the order that breaks ties; %s is a table alias.
var searchKeyFmt = [4]string{"%slogin_key", "lower(%semail)", "lower(%sfirst_name)", "lower(%slast_name)"}

// searchKey is the SQL of search key i. On PostgreSQL it is compared in
// byte order (COLLATE "C", as SQLite compares text), which the indexes of
// migration 11 are built in: they serve the prefix match, the order by
// (key, id) and the seek to a cursor.
func (db *DB) searchKey(i int, alias string) string {
	k := fmt.Sprintf(searchKeyFmt[i], alias)
	if db.dialect == Postgres {
		return "(" + k + ` COLLATE "C")`
	}
	return k
}

// searchByKey answers a People search with no filter: the people whose
// login, email, first or last name starts with q.Q, ordered by their
// smallest matching key (byte order), then id. The cursor is (key, id)
// (directory.Cursor). Each of the four key indexes is read from the cursor
// on in its own order, up to a page's worth of people not yet shown, and
// the four runs are merged: a person matching in several keys is taken
// once, at the smallest. The work is at most four pages of index entries
// and rows wherever the matches sit, plus the entries skipped as already
// shown (a person whose larger matching key is past the cursor while the
// smallest is not: at most three times per person over a whole walk).
//
// Why a page's worth from each key is enough: a person P of the answer is
// found in the run of the key K that holds P's smallest match; the people
// before P in that run are not yet shown and come before P in the merged
// order (their smallest key is at most their K), so there are fewer than
// Limit of them.
func (s dirStore) searchByKey(ctx context.Context, q directory.UserQuery, extra []string) ([]*directory.User, error) {
	if q.Limit <= 0 {
		return []*directory.User{}, nil
	}
	n := len(searchKeyFmt)
	keys, match := make([]string, n), make([]string, n)
	var matchArgs [][]any
	for i := range n {
		keys[i] = s.db.searchKey(i, "")
		c, a := s.db.prefixCond(keys[i], q.Q)
		match[i] = c
		matchArgs = append(matchArgs, a)
	}
	// The matched keys of a row: the key where it matches, NULL elsewhere.
	var sel []string
	var selArgs []any
	for i := range n {
		sel = append(sel, "CASE WHEN "+match[i]+" THEN "+keys[i]+" END")
		selArgs = append(selArgs, matchArgs[i]...)
	}
	var ck, cid string
	hasCursor := q.After != ""
	if hasCursor {
		if strings.ContainsRune(q.After, 0) || !utf8.ValidString(q.After) {
			return []*directory.User{}, nil // no id holds these (and PostgreSQL refuses them)
		}
		var ok bool
		if cid, ck, ok = directory.ParseCursor(q.After); !ok {
			// A bare id (a link from before keyed search): its current
			// smallest matching key.
			row := s.db.queryRow(ctx, "SELECT "+strings.Join(sel, ", ")+" FROM users WHERE id = ?", append(append([]any{}, selArgs...), q.After)...)
			k, err := scanSearchKeys(row, n)
			if err == sql.ErrNoRows || (err == nil && k == nil) {
				return []*directory.User{}, nil // gone, or no longer a match: nothing to continue from
			}
			if err != nil {
				return nil, err
			}
			ck, cid = minKey(k), q.After
		}
		// A cursor's key starts with the prefix; one made up by hand may
		// not: before the matches it starts at the first, after them
		// there is nothing more.
		if p := strings.ToLower(q.Q); ck < p {
			ck, cid = p, ""
		} else if !strings.HasPrefix(ck, p) {
			return []*directory.User{}, nil
		}
	}
	var arms []string
	var args []any
	arm := func(i int, where []string, wargs []any) {
		arms = append(arms, "SELECT * FROM (SELECT "+strings.Join(sel, ", ")+", id FROM users WHERE "+
			strings.Join(append(where, extra...), " AND ")+" ORDER BY "+keys[i]+", id LIMIT ?) a"+fmt.Sprint(len(arms)))
		args = append(append(append(args, selArgs...), wargs...), q.Limit)
	}
	for i := range n {
		if !hasCursor {
			arm(i, []string{match[i]}, matchArgs[i])
			continue
		}
		// Not shown already by a smaller match in another key.
		var shown []string
		var shownArgs []any
		for j := range n {
			if j != i {
				shown = append(shown, "("+match[j]+" AND ("+keys[j]+", id) <= (?, ?))")
				shownArgs = append(append(shownArgs, matchArgs[j]...), ck, cid)
			}
		}
		notShown := "NOT (" + strings.Join(shown, " OR ") + ")"
		// Past the cursor in this key, as two index seeks: the rest of the
		// cursor's key by id, then the larger keys that match. (A row
		// value or an OR would make SQLite seek to the start of the
		// prefix and skip everything before the cursor.)
		arm(i, []string{keys[i] + " = ?", "id > ?", notShown}, append([]any{ck, cid}, shownArgs...))
		from, fargs := s.db.prefixAfter(keys[i], q.Q, ck)
		arm(i, []string{from, notShown}, append(fargs, shownArgs...))
	}
	// The keys and ids of up to four pages, merged; then the rows of the
	// one page.
	rows, err := s.db.query(ctx, strings.Join(arms, " UNION ALL "), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type hit struct{ key, id string }
	var hits []hit
	seen := map[string]bool{}
	for rows.Next() {
		ks := make([]sql.NullString, n)
		dest := make([]any, 0, n+1)
		for i := range ks {
			dest = append(dest, &ks[i])
		}
		var id string
		if err := rows.Scan(append(dest, &id)...); err != nil {
			return nil, err
		}
		if seen[id] {
			continue
		}
		seen[id] = true
		var k []string
		for _, v := range ks {
			if v.Valid {
				k = append(k, v.String)
			}
		}
		hits = append(hits, hit{minKey(k), id})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	slices.SortFunc(hits, func(a, b hit) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	hits = hits[:min(len(hits), q.Limit)]
	if len(hits) == 0 {
		return []*directory.User{}, nil
	}
	ids := make([]any, len(hits))
	for i, h := range hits {
		ids[i] = h.id
	}
	page, err := s.db.users(ctx, "SELECT "+userCols+" FROM users WHERE id IN "+inList(len(ids)), ids...)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*directory.User, len(page))
	for _, u := range page {
		byID[u.ID] = u
	}
	out := make([]*directory.User, 0, len(hits))
	for _, h := range hits {
		if u, ok := byID[h.id]; ok { // a person deleted in between is left out
			u.SearchKey = h.key
			out = append(out, u)
		}
	}
	return out, nil
}

// scanSearchKeys reads the n matched keys of a row (nil when none matches).
func scanSearchKeys(row scanner, n int) ([]string, error) {
	ks := make([]sql.NullString, n)
	dest := make([]any, n)
	for i := range ks {
		dest[i] = &ks[i]
	}
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	var k []string
	for _, v := range ks {
		if v.Valid {
			k = append(k, v.String)
		}
	}
	return k, nil
}

// minKey is the smallest of keys in byte order.
func minKey(keys []string) string {
	if len(keys) == 0 {
		return ""
	}
	return slices.Min(keys)
}

// searchProbeRows is how many rows in id order a prefix search with a
// filter looks through before it uses the prefix indexes (see Users).
const searchProbeRows = 2000

// manyMatch reports whether more than searchProbeRows people match a
// prefix search, counting in each prefix index up to that many (an
// index-only read of at most a few thousand entries).
func (s dirStore) manyMatch(ctx context.Context, prefix string) bool {
	total := 0
	for i := range searchKeyFmt {
		c, a := s.db.prefixCond(s.db.searchKey(i, ""), prefix)
		var n int
		if err := s.db.queryRow(ctx, "SELECT count(*) FROM (SELECT 1 FROM users WHERE "+c+" LIMIT ?) m", append(a, searchProbeRows+1)...).Scan(&n); err != nil {
			return true // let the probe decide
		}
		if total += n; total > searchProbeRows {
			return true
		}
	}
	return false
}

// userSortKey is the SQL a list is ordered by for an API attribute ("" for
// id). Missing values sort first, as empty text or time zero.
func (db *DB) userSortKey(attr string) (string, error) {
	if attr == "" || attr == "id" {
		return "", nil
	}
	col, ok := db.userColumn(attr)
	if !ok {
		return "", &errs.Error{Kind: errs.Invalid, Code: "E0000031", Msg: "Invalid search criteria.",
			Fields: []errs.FieldError{{Field: "sortBy", Message: "sortBy: " + attr + " is not an attribute users can be sorted by"}}}
	}
	switch col.kind {
	case colTime:
		return "COALESCE(" + col.expr + ", 0)", nil
	case colJSON:
		return "COALESCE(" + db.jsonText("profile", col.expr) + ", '')", nil
	case colConst:
		return "", nil
	}
	return "COALESCE(" + col.expr + ", '')", nil
}

func (db *DB) users(ctx context.Context, stmt string, args ...any) ([]*directory.User, error) {
	rows, err := db.query(ctx, stmt, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*directory.User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

func (s dirStore) Schema(ctx context.Context) (*directory.Schema, error) {
	var body string
	err := s.db.queryRow(ctx, "SELECT body FROM profile_schema WHERE id = 1").Scan(&body)
	return decodeSchema(body, err)
}

func decodeSchema(body string, err error) (*directory.Schema, error) {
	if err == sql.ErrNoRows {
		return &directory.Schema{}, nil
	}
	if err != nil {
		return nil, err
	}
	var sc directory.Schema
	if err := json.Unmarshal([]byte(body), &sc); err != nil {
		return nil, fmt.Errorf("decode profile schema: %w", err)
	}
	return &sc, nil
}

// Transaction side.

func (t *Tx) UserForUpdate(idOrLogin string) (*directory.User, error) {
	if strings.ContainsRune(idOrLogin, 0) {
		return nil, notFound(errNoUserWithNUL, "(User)")
	}
	cond, arg := userKeyCond(idOrLogin)
	u, err := scanUser(t.queryRow("SELECT "+userCols+" FROM users WHERE "+cond+t.forUpdate(), arg))
	return u, notFound(err, idOrLogin+" (User)")
}

func userRow(u *directory.User) (profile, creds []byte, err error) {
	if profile, err = json.Marshal(u.Profile); err != nil {
		return nil, nil, err
	}
	creds, err = json.Marshal(u.Credentials)
	return profile, creds, err
}

func loginConflict() error {
	return &errs.Error{Kind: errs.Invalid, Msg: "Api validation failed: login", Fields: []errs.FieldError{
		{Field: "login", Message: "login: An object with this field already exists in the current organization"}}}
}

func (t *Tx) InsertUser(u *directory.User) error {
	profile, creds, err := userRow(u)
	if err != nil {
		return err
	}
	u.Version = 1
	_, err = t.exec(`INSERT INTO users (id, login_key, status, email, first_name, last_name, profile, credentials, created, activated, status_changed, last_login, last_updated, password_changed, failed_logins, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, strings.ToLower(u.Login()), string(u.Status), u.Profile.String("email"), u.Profile.String("firstName"), u.Profile.String("lastName"),
		string(profile), string(creds), ms(u.Created), msPtr(u.Activated), msPtr(u.StatusChanged), msPtr(u.LastLogin), ms(u.LastUpdated), msPtr(u.PasswordChanged), u.FailedLogins, u.Version)
	if isUnique(err) {
		return loginConflict()
	}
	return err
}

func (t *Tx) UpdateUser(u *directory.User) error {
	profile, creds, err := userRow(u)
	if err != nil {
		return err
	}
	res, err := t.exec(`UPDATE users SET login_key = ?, status = ?, email = ?, first_name = ?, last_name = ?, profile = ?, credentials = ?,
		activated = ?, status_changed = ?, last_login = ?, last_updated = ?, password_changed = ?, failed_logins = ?, version = version + 1
		WHERE id = ? AND version = ?`,
		strings.ToLower(u.Login()), string(u.Status), u.Profile.String("email"), u.Profile.String("firstName"), u.Profile.String("lastName"),
		string(profile), string(creds), msPtr(u.Activated), msPtr(u.StatusChanged), msPtr(u.LastLogin), ms(u.LastUpdated), msPtr(u.PasswordChanged), u.FailedLogins,
		u.ID, u.Version)
	if isUnique(err) {
		return loginConflict()
	}
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return &errs.Error{Kind: errs.Conflict, Msg: "The user was changed by another request; retry."}
	}
	u.Version++
	return nil
}

func (t *Tx) RecordSignIn(u *directory.User) error {
	res, err := t.exec("UPDATE users SET last_login = ?, failed_logins = 0, version = version + 1 WHERE id = ? AND version = ?",
		msPtr(u.LastLogin), u.ID, u.Version)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return &errs.Error{Kind: errs.Conflict, Msg: "The user was changed by another request; retry."}
	}
	u.FailedLogins = 0
	u.Version++
	return nil
}

func (t *Tx) CountFailedSignIn(login string) error {
	if strings.ContainsRune(login, 0) {
		return nil // no login holds U+0000 (and PostgreSQL would refuse the statement)
	}
	_, err := t.exec("UPDATE users SET failed_logins = failed_logins + 1, version = version + 1 WHERE login_key = ?", strings.ToLower(login))
	return err
}

func (t *Tx) DeleteUser(id string) error {
	_, err := t.exec("DELETE FROM users WHERE id = ?", id)
	return err
}

func (t *Tx) SetUnique(userID string, values map[string]string) error {
	if _, err := t.exec("DELETE FROM user_unique_values WHERE user_id = ?", userID); err != nil {
		return err
	}
	for attr, v := range values {
		_, err := t.exec("INSERT INTO user_unique_values (attr, value_key, user_id) VALUES (?, ?, ?)", attr, v, userID)
		if isUnique(err) {
			return &errs.Error{Kind: errs.Invalid, Msg: "Api validation failed: " + attr, Fields: []errs.FieldError{
				{Field: attr, Message: attr + ": An object with this field already exists in the current organization"}}}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (t *Tx) Schema() (*directory.Schema, error) {
	var body string
	err := t.queryRow("SELECT body FROM profile_schema WHERE id = 1").Scan(&body)
	return decodeSchema(body, err)
}

func (t *Tx) SaveSchema(sc *directory.Schema) error {
	b, err := json.Marshal(sc)
	if err != nil {
		return err
	}
	_, err = t.exec("INSERT INTO profile_schema (id, body) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body", string(b))
	return err
}

// Append writes a system-log event in the transaction.
func (t *Tx) Append(ev audit.Event) error {
	r, err := eventRow(ev)
	if err != nil {
		return err
	}
	var seq int64
	if err := t.queryRow(`INSERT INTO events (uuid, published, event_type, severity, actor_id, outcome, target_ids, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
		r.uuid, r.published, r.eventType, r.severity, r.actor, r.outcome, r.targetIDs, r.body).Scan(&seq); err != nil {
		return err
	}
	for _, tg := range r.targets {
		if _, err := t.exec(`INSERT INTO event_targets (target_id, t_published, t_seq) VALUES (?, ?, ?)`, tg, r.published, seq); err != nil {
			return err
		}
	}
	t.tapped(ev)
	return nil
}

// evRow is an event as its columns in events (and its distinct target
// ids, one event_targets row each).
type evRow struct {
	uuid, eventType, severity, actor, outcome, targetIDs, body string
	published                                                  int64
	targets                                                    []string
}

func eventRow(ev audit.Event) (evRow, error) {
	body, err := json.Marshal(ev)
	if err != nil {
		return evRow{}, err
	}
	body = replaceJSONNUL(body)
	var targets strings.Builder
	targets.WriteByte(' ')
	var distinct []string
	for i, tg := range ev.Target {
		targets.WriteString(tg.ID)
		targets.WriteByte(' ')
		// One row per distinct target, for target.id filters.
		if tg.ID == "" || slices.ContainsFunc(ev.Target[:i], func(o audit.Target) bool { return o.ID == tg.ID }) {
			continue
		}
		distinct = append(distinct, noNUL(tg.ID))
	}
	return evRow{uuid: ev.UUID, published: ms(ev.Published), eventType: ev.EventType, severity: ev.Severity, actor: noNUL(ev.Actor.ID),
		outcome: ev.Outcome.Result, targetIDs: noNUL(targets.String()), body: string(body), targets: distinct}, nil
}

// An event records what was typed, and may quote a NUL character (U+0000)
// from outside input, such as a sign-in name. PostgreSQL stores no NUL in
// text, and reads event bodies as jsonb, which refuses the \u0000 escape:
// one such event would break every System Log filter there. Events
// therefore record U+FFFD (the replacement character) in its place, on
// both databases.

// noNUL replaces U+0000 in s with U+FFFD.
func noNUL(s string) string { return strings.ReplaceAll(s, "\x00", "\uFFFD") }

// replaceJSONNUL replaces the JSON escape \u0000 in b (JSON text from
// encoding/json) with \ufffd, leaving escaped backslashes alone.
func replaceJSONNUL(b []byte) []byte {
	if !bytes.Contains(b, []byte(`\u0000`)) {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			out = append(out, b[i])
			continue
		}
		if b[i+1] == 'u' && i+6 <= len(b) && string(b[i+2:i+6]) == "0000" {
			out = append(out, `\ufffd`...)
			i += 5
			continue
		}
		out = append(out, b[i], b[i+1]) // any other escape, including \\
		i++
	}
	return out
}
