package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

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
	var (
		u                                             directory.User
		status, profile, creds                        string
		created, lastUpdated                          int64
		activated, statusChanged, lastLogin, pwChange sql.NullInt64
	)
	if err := sc.Scan(&u.ID, &status, &profile, &creds, &created, &activated, &statusChanged, &lastLogin, &lastUpdated, &pwChange, &u.FailedLogins, &u.Version); err != nil {
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
	return &u, nil
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
	var arms []string
	var armArgs []any
	if q.Q != "" {
		var ors []string
		var orArgs []any
		for _, col := range []string{"login_key", "lower(email)", "lower(first_name)", "lower(last_name)"} {
			c, a := s.db.prefixCond(col, q.Q)
			ors, orArgs = append(ors, c), append(orArgs, a...)
			arms, armArgs = append(arms, "SELECT id FROM users WHERE "+c), append(armArgs, a...)
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
	if q.Q != "" && key == "" && q.Limit > 0 && s.manyMatch(ctx, q.Q) {
		// A prefix matching many people makes the planner join the four
		// prefix indexes and sort every match. First look through the next
		// rows in id order only: when they hold a full page, that page is
		// the answer (later rows have larger ids); otherwise the matches are
		// few and the indexed query is fast.
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
	if q.Q != "" && key == "" && len(others) == 0 {
		// Only the search: the first ids of the four prefix indexes (read
		// without their rows; the sort keeps only the first few, and one
		// person matches at most four times), then those people's rows.
		// With other conditions the planner's own choice (a status index,
		// say) is the better one.
		ids := "SELECT id AS cid FROM (" + strings.Join(arms, " UNION ALL ") + ") i"
		idArgs := append([]any{}, armArgs...)
		if q.After != "" {
			ids += " WHERE id " + cmp + " ?"
			idArgs = append(idArgs, q.After)
		}
		ids += " ORDER BY id" + dir + " LIMIT ?"
		idArgs = append(idArgs, len(arms)*q.Limit)
		stmt := "SELECT " + userCols + " FROM users WHERE id IN (SELECT cid FROM (" + ids + ") c) ORDER BY id" + dir + " LIMIT ?"
		return s.db.users(ctx, stmt, append(idArgs, q.Limit)...)
	}
	args = append(args, q.Limit)
	return s.db.users(ctx, "SELECT "+userCols+" FROM users"+cond+order, args...)
}

// searchProbeRows is how many rows in id order a prefix search looks
// through before it uses the prefix indexes (see Users).
const searchProbeRows = 2000

// manyMatch reports whether more than searchProbeRows people match a
// prefix search, counting in each prefix index up to that many (an
// index-only read of at most a few thousand entries).
func (s dirStore) manyMatch(ctx context.Context, prefix string) bool {
	total := 0
	for _, col := range []string{"login_key", "lower(email)", "lower(first_name)", "lower(last_name)"} {
		c, a := s.db.prefixCond(col, prefix)
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
	body, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	body = replaceJSONNUL(body)
	var targets strings.Builder
	targets.WriteByte(' ')
	for _, tg := range ev.Target {
		targets.WriteString(tg.ID)
		targets.WriteByte(' ')
	}
	var seq int64
	if err := t.queryRow(`INSERT INTO events (uuid, published, event_type, severity, actor_id, outcome, target_ids, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
		ev.UUID, ms(ev.Published), ev.EventType, ev.Severity, noNUL(ev.Actor.ID), ev.Outcome.Result, noNUL(targets.String()), string(body)).Scan(&seq); err != nil {
		return err
	}
	// One row per distinct target, for target.id filters.
	for i, tg := range ev.Target {
		if tg.ID == "" || slices.ContainsFunc(ev.Target[:i], func(o audit.Target) bool { return o.ID == tg.ID }) {
			continue
		}
		if _, err := t.exec(`INSERT INTO event_targets (target_id, t_published, t_seq) VALUES (?, ?, ?)`, noNUL(tg.ID), ms(ev.Published), seq); err != nil {
			return err
		}
	}
	return nil
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
