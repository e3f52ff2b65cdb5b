package sqlstore

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
)

// Catalog returns the app catalog store.
func (db *DB) Catalog() catalog.Store { return catalogStore{db} }

type catalogStore struct{ db *DB }

func (s catalogStore) Update(ctx context.Context, fn func(catalog.Tx) error) error {
	return s.db.InTx(ctx, func(t *Tx) error { return fn(t) })
}

// appBody is the JSON column of an app: everything without its own column.
type appBody struct {
	Visibility    catalog.Visibility    `json:"visibility"`
	Accessibility catalog.Accessibility `json:"accessibility"`
	Credentials   catalog.Credentials   `json:"credentials"`
	Settings      catalog.Settings      `json:"settings"`
}

const appCols = `id, name, label, status, sign_on_mode, external_key, body, secrets, created, last_updated, version`

func scanApp(sc scanner) (*catalog.App, error) {
	var (
		a             catalog.App
		status        string
		body, secrets string
		created, lu   int64
	)
	if err := sc.Scan(&a.ID, &a.Name, &a.Label, &status, &a.SignOnMode, &a.ExternalKey, &body, &secrets, &created, &lu, &a.Version); err != nil {
		return nil, err
	}
	a.Status = catalog.Status(status)
	var b appBody
	if err := json.Unmarshal([]byte(body), &b); err != nil {
		return nil, fmt.Errorf("decode app %s: %w", a.ID, err)
	}
	a.Visibility, a.Accessibility, a.Credentials, a.Settings = b.Visibility, b.Accessibility, b.Credentials, b.Settings
	if a.Settings.App == nil {
		a.Settings.App = map[string]any{}
	}
	if err := json.Unmarshal([]byte(secrets), &a.Secrets); err != nil {
		return nil, fmt.Errorf("decode app %s secrets: %w", a.ID, err)
	}
	a.Created, a.LastUpdated = fromMs(created), fromMs(lu)
	return &a, nil
}

func appRow(a *catalog.App) (body, secrets []byte, uniqueName any, err error) {
	body, err = json.Marshal(appBody{Visibility: a.Visibility, Accessibility: a.Accessibility, Credentials: a.Credentials, Settings: a.Settings})
	if err != nil {
		return nil, nil, nil, err
	}
	sec := a.Secrets
	if sec == nil {
		sec = map[string]string{}
	}
	if secrets, err = json.Marshal(sec); err != nil {
		return nil, nil, nil, err
	}
	if !catalog.TemplateFor(a.Name).FixedName {
		uniqueName = a.Name
	}
	return body, secrets, uniqueName, nil
}

func appNotFound(err error, id string) error { return notFound(err, id+" (AppInstance)") }

func (db *DB) apps(ctx context.Context, stmt string, args ...any) ([]*catalog.App, error) {
	rows, err := db.query(ctx, stmt, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*catalog.App{}
	for rows.Next() {
		a, err := scanApp(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func (s catalogStore) App(ctx context.Context, id string) (*catalog.App, error) {
	a, err := scanApp(s.db.queryRow(ctx, "SELECT "+appCols+" FROM apps WHERE id = ?", id))
	return a, appNotFound(err, id)
}

func (s catalogStore) AppByExternalKey(ctx context.Context, key string) (*catalog.App, error) {
	a, err := scanApp(s.db.queryRow(ctx, "SELECT "+appCols+" FROM apps WHERE external_key = ?", key))
	return a, appNotFound(err, key)
}

func (s catalogStore) AppVersion(ctx context.Context, idOrKey string, byKey bool) (string, int64, error) {
	q := "SELECT id, version FROM apps WHERE id = ?"
	if byKey {
		q = "SELECT id, version FROM apps WHERE external_key = ?"
	}
	var id string
	var v int64
	err := s.db.queryRow(ctx, q, idOrKey).Scan(&id, &v)
	return id, v, appNotFound(err, idOrKey)
}

// userAppsCond selects the apps a user has directly or through a group.
const userAppsCond = `id IN (SELECT app_id FROM app_users WHERE user_id = ?
	UNION SELECT ag.app_id FROM app_groups ag JOIN group_members m ON m.group_id = ag.group_id WHERE m.user_id = ?)`

func (s catalogStore) Apps(ctx context.Context, q catalog.AppQuery) ([]*catalog.App, error) {
	var where []string
	var args []any
	if q.After != "" {
		where, args = append(where, "id > ?"), append(args, q.After)
	}
	if q.ID != "" {
		where, args = append(where, "id = ?"), append(args, q.ID)
	}
	if q.Status != "" {
		where, args = append(where, "status = ?"), append(args, string(q.Status))
	}
	if q.Name != "" {
		where, args = append(where, "name_key = ?"), append(args, strings.ToLower(q.Name))
	}
	if q.Q != "" {
		c1, a1 := s.db.prefixCond("name_key", q.Q)
		c2, a2 := s.db.prefixCond("label_key", q.Q)
		where, args = append(where, "("+c1+" OR "+c2+")"), append(append(args, a1...), a2...)
	}
	if q.UserID != "" {
		where, args = append(where, userAppsCond), append(args, q.UserID, q.UserID)
	}
	if q.GroupID != "" {
		where, args = append(where, "id IN (SELECT app_id FROM app_groups WHERE group_id = ?)"), append(args, q.GroupID)
	}
	stmt := "SELECT " + appCols + " FROM apps"
	if len(where) > 0 {
		stmt += " WHERE " + strings.Join(where, " AND ")
	}
	stmt += " ORDER BY id LIMIT ?"
	return s.db.apps(ctx, stmt, append(args, q.Limit)...)
}

const keyCols = `app_id, kid, certificate, sealed_key, bits, created, expires_at`

func scanKey(sc scanner) (*catalog.KeyRecord, error) {
	var k catalog.KeyRecord
	var cert string
	var created, exp int64
	if err := sc.Scan(&k.AppID, &k.Kid, &cert, &k.SealedKey, &k.Bits, &created, &exp); err != nil {
		return nil, err
	}
	der, err := base64.StdEncoding.DecodeString(cert)
	if err != nil {
		return nil, fmt.Errorf("decode certificate of key %s: %w", k.Kid, err)
	}
	k.Certificate, k.Created, k.ExpiresAt = der, fromMs(created), fromMs(exp)
	return &k, nil
}

func scanKeys(rows *sql.Rows, err error) ([]*catalog.KeyRecord, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*catalog.KeyRecord{}
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

func (s catalogStore) AppKeys(ctx context.Context, appID string) ([]*catalog.KeyRecord, error) {
	return scanKeys(s.db.query(ctx, "SELECT "+keyCols+" FROM app_keys WHERE app_id = ? ORDER BY created, kid", appID))
}

// assignedUsersCond selects the users who have an app directly or through
// a group.
const assignedUsersCond = `u.id IN (SELECT user_id FROM app_users WHERE app_id = ?
	UNION SELECT m.user_id FROM app_groups ag JOIN group_members m ON m.group_id = ag.group_id WHERE ag.app_id = ?)`

func (s catalogStore) AppUsers(ctx context.Context, q catalog.AppUserQuery) ([]*directory.User, error) {
	where := []string{assignedUsersCond, "u.id > ?"}
	args := []any{q.AppID, q.AppID, q.After}
	if q.Q != "" {
		var ors []string
		for i := range searchKeyFmt {
			c, a := s.db.prefixCond(s.db.searchKey(i, "u."), q.Q)
			ors, args = append(ors, c), append(args, a...)
		}
		where = append(where, "("+strings.Join(ors, " OR ")+")")
	}
	stmt := "SELECT " + prefixed("u.", userCols) + " FROM users u WHERE " + strings.Join(where, " AND ") + " ORDER BY u.id LIMIT ?"
	return s.db.users(ctx, stmt, append(args, q.Limit)...)
}

// inList renders "(?, ?, ...)" for n values.
func inList(n int) string {
	return "(" + strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + ")"
}

const appUserCols = `app_id, user_id, user_name, user_name_set, profile, external_id, status, sync_state, created, last_updated, status_changed`

func scanAppUser(sc scanner) (*catalog.Assignment, error) {
	var (
		a                 catalog.Assignment
		set               int
		profile           string
		created, lu, schg int64
	)
	if err := sc.Scan(&a.AppID, &a.UserID, &a.UserName, &set, &profile, &a.ExternalID, &a.Status, &a.SyncState, &created, &lu, &schg); err != nil {
		return nil, err
	}
	a.Scope, a.UserNameSet = catalog.ScopeUser, set != 0
	if err := json.Unmarshal([]byte(profile), &a.Profile); err != nil {
		return nil, fmt.Errorf("decode app user profile: %w", err)
	}
	a.Created, a.LastUpdated, a.StatusChanged = fromMs(created), fromMs(lu), fromMs(schg)
	return &a, nil
}

func (s catalogStore) UserAssignments(ctx context.Context, appID string, userIDs []string) ([]*catalog.Assignment, error) {
	out := []*catalog.Assignment{}
	if len(userIDs) == 0 {
		return out, nil
	}
	args := []any{appID}
	for _, id := range userIDs {
		args = append(args, id)
	}
	rows, err := s.db.query(ctx, "SELECT "+appUserCols+" FROM app_users WHERE app_id = ? AND user_id IN "+inList(len(userIDs))+" ORDER BY user_id", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		a, err := scanAppUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

const appGroupCols = `app_id, group_id, priority, profile, last_updated`

func scanAppGroup(sc scanner, extra ...any) (*catalog.GroupAssignment, error) {
	var g catalog.GroupAssignment
	var profile string
	var lu int64
	dest := append(extra, &g.AppID, &g.GroupID, &g.Priority, &profile, &lu)
	if err := sc.Scan(dest...); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(profile), &g.Profile); err != nil {
		return nil, fmt.Errorf("decode app group profile: %w", err)
	}
	g.LastUpdated = fromMs(lu)
	return &g, nil
}

func (s catalogStore) GroupGrants(ctx context.Context, appID string, userIDs []string) ([]*catalog.GroupGrant, error) {
	out := []*catalog.GroupGrant{}
	if len(userIDs) == 0 {
		return out, nil
	}
	args := []any{appID}
	for _, id := range userIDs {
		args = append(args, id)
	}
	rows, err := s.db.query(ctx, "SELECT m.user_id, "+prefixed("ag.", appGroupCols)+
		" FROM app_groups ag JOIN group_members m ON m.group_id = ag.group_id WHERE ag.app_id = ? AND m.user_id IN "+inList(len(userIDs))+
		" ORDER BY m.user_id, ag.priority, ag.group_id", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var uid string
		g, err := scanAppGroup(rows, &uid)
		if err != nil {
			return nil, err
		}
		out = append(out, &catalog.GroupGrant{UserID: uid, GroupAssignment: *g})
	}
	return out, rows.Err()
}

func (s catalogStore) GroupAssignment(ctx context.Context, appID, groupID string) (*catalog.GroupAssignment, error) {
	g, err := scanAppGroup(s.db.queryRow(ctx, "SELECT "+appGroupCols+" FROM app_groups WHERE app_id = ? AND group_id = ?", appID, groupID))
	return g, notFound(err, groupID+" (ApplicationGroupAssignment)")
}

func (s catalogStore) GroupAssignments(ctx context.Context, appID, q, after string, limit int) ([]*catalog.GroupAssignment, error) {
	stmt, args := "SELECT "+appGroupCols+" FROM app_groups WHERE app_id = ? AND group_id > ?", []any{appID, after}
	if q != "" {
		c, a := s.db.prefixCond("name_key", q)
		stmt += " AND group_id IN (SELECT id FROM groups WHERE " + c + ")"
		args = append(args, a...)
	}
	rows, err := s.db.query(ctx, stmt+" ORDER BY group_id LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*catalog.GroupAssignment{}
	for rows.Next() {
		g, err := scanAppGroup(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

func (s catalogStore) GroupAppCounts(ctx context.Context, groupIDs []string) (map[string]int, error) {
	return s.db.countByGroup(ctx, "app_groups", groupIDs)
}

func (s catalogStore) GroupApps(ctx context.Context, groupID, after string, limit int) ([]*catalog.GroupAssignment, error) {
	rows, err := s.db.query(ctx, "SELECT "+appGroupCols+" FROM app_groups WHERE group_id = ? AND app_id > ? ORDER BY app_id LIMIT ?", groupID, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*catalog.GroupAssignment{}
	for rows.Next() {
		g, err := scanAppGroup(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// Transaction side (catalog.Tx).

func (t *Tx) AppForUpdate(id string) (*catalog.App, error) {
	a, err := scanApp(t.queryRow("SELECT "+appCols+" FROM apps WHERE id = ?"+t.forUpdate(), id))
	return a, appNotFound(err, id)
}

func appNameConflict() error {
	return &errs.Error{Kind: errs.Invalid, Msg: "Api validation failed: name", Fields: []errs.FieldError{
		{Field: "name", Message: "name: An object with this field already exists in the current organization"}}}
}

func (t *Tx) InsertApp(a *catalog.App) error {
	body, secrets, uniqueName, err := appRow(a)
	if err != nil {
		return err
	}
	a.Version = 1
	_, err = t.exec(`INSERT INTO apps (id, name, name_key, unique_name, label, label_key, status, sign_on_mode, external_key, body, secrets, created, last_updated, version)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.Name, strings.ToLower(a.Name), uniqueName, a.Label, strings.ToLower(a.Label), string(a.Status), a.SignOnMode, a.ExternalKey,
		string(body), string(secrets), ms(a.Created), ms(a.LastUpdated), a.Version)
	if isUnique(err) {
		return appNameConflict()
	}
	return err
}

func (t *Tx) UpdateApp(a *catalog.App) error {
	body, secrets, _, err := appRow(a)
	if err != nil {
		return err
	}
	res, err := t.exec(`UPDATE apps SET label = ?, label_key = ?, status = ?, sign_on_mode = ?, body = ?, secrets = ?, last_updated = ?, version = version + 1
		WHERE id = ? AND version = ?`,
		a.Label, strings.ToLower(a.Label), string(a.Status), a.SignOnMode, string(body), string(secrets), ms(a.LastUpdated), a.ID, a.Version)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return &errs.Error{Kind: errs.Conflict, Msg: "The app was changed by another request; retry."}
	}
	a.Version++
	return nil
}

func (t *Tx) DeleteApp(id string) error {
	_, err := t.exec("DELETE FROM apps WHERE id = ?", id)
	return err
}

func (t *Tx) AppNamesWithPrefix(prefix string) ([]string, error) {
	c, args := t.db.prefixCond("name_key", prefix)
	return scanStrings(t.query("SELECT name FROM apps WHERE "+c, args...))
}

func (t *Tx) AppKeysForUpdate(appID string) ([]*catalog.KeyRecord, error) {
	return scanKeys(t.query("SELECT "+keyCols+" FROM app_keys WHERE app_id = ? ORDER BY created, kid"+t.forUpdate(), appID))
}

func (t *Tx) InsertAppKey(k *catalog.KeyRecord) error {
	_, err := t.exec("INSERT INTO app_keys (app_id, kid, certificate, sealed_key, bits, created, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
		k.AppID, k.Kid, base64.StdEncoding.EncodeToString(k.Certificate), k.SealedKey, k.Bits, ms(k.Created), ms(k.ExpiresAt))
	if isUnique(err) {
		return errs.Conflictf("The key %s already exists.", k.Kid)
	}
	return err
}

func (t *Tx) DeleteAppKey(appID, kid string) error {
	_, err := t.exec("DELETE FROM app_keys WHERE app_id = ? AND kid = ?", appID, kid)
	return err
}

func (t *Tx) AppUserForUpdate(appID, userID string) (*catalog.Assignment, error) {
	a, err := scanAppUser(t.queryRow("SELECT "+appUserCols+" FROM app_users WHERE app_id = ? AND user_id = ?"+t.forUpdate(), appID, userID))
	return a, notFound(err, userID+" (AppUser)")
}

func (t *Tx) PutAppUser(a *catalog.Assignment) error {
	profile := a.Profile
	if profile == nil {
		profile = map[string]any{}
	}
	p, err := json.Marshal(profile)
	if err != nil {
		return err
	}
	set := 0
	name := ""
	if a.UserNameSet {
		set, name = 1, a.UserName
	}
	_, err = t.exec(`INSERT INTO app_users (app_id, user_id, user_name, user_name_set, profile, external_id, status, sync_state, created, last_updated, status_changed)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (app_id, user_id) DO UPDATE SET user_name = excluded.user_name, user_name_set = excluded.user_name_set, profile = excluded.profile,
		external_id = excluded.external_id, status = excluded.status, sync_state = excluded.sync_state, last_updated = excluded.last_updated, status_changed = excluded.status_changed`,
		a.AppID, a.UserID, name, set, string(p), a.ExternalID, a.Status, a.SyncState, ms(a.Created), ms(a.LastUpdated), ms(a.StatusChanged))
	return err
}

func (t *Tx) DeleteAppUser(appID, userID string) (bool, error) {
	res, err := t.exec("DELETE FROM app_users WHERE app_id = ? AND user_id = ?", appID, userID)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

func (t *Tx) AppGroupForUpdate(appID, groupID string) (*catalog.GroupAssignment, error) {
	g, err := scanAppGroup(t.queryRow("SELECT "+appGroupCols+" FROM app_groups WHERE app_id = ? AND group_id = ?"+t.forUpdate(), appID, groupID))
	return g, notFound(err, groupID+" (ApplicationGroupAssignment)")
}

func (t *Tx) PutAppGroup(g *catalog.GroupAssignment) error {
	profile := g.Profile
	if profile == nil {
		profile = map[string]any{}
	}
	p, err := json.Marshal(profile)
	if err != nil {
		return err
	}
	_, err = t.exec(`INSERT INTO app_groups (app_id, group_id, priority, profile, last_updated) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (app_id, group_id) DO UPDATE SET priority = excluded.priority, profile = excluded.profile, last_updated = excluded.last_updated`,
		g.AppID, g.GroupID, g.Priority, string(p), ms(g.LastUpdated))
	return err
}

func (t *Tx) DeleteAppGroup(appID, groupID string) (bool, error) {
	res, err := t.exec("DELETE FROM app_groups WHERE app_id = ? AND group_id = ?", appID, groupID)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

func (t *Tx) MaxAppGroupPriority(appID string) (int, bool, error) {
	var max sql.NullInt64
	if err := t.queryRow("SELECT MAX(priority) FROM app_groups WHERE app_id = ?", appID).Scan(&max); err != nil {
		return 0, false, err
	}
	return int(max.Int64), max.Valid, nil
}

var (
	_ catalog.Tx    = (*Tx)(nil)
	_ catalog.Store = catalogStore{}
)

// UserAppIDs lists, inside the transaction, the ids of the apps named name
// that the user has directly or through a group: the state this
// transaction has written, memberships it just changed included.
func (t *Tx) UserAppIDs(userID, name string) ([]string, error) {
	return scanStrings(t.query("SELECT id FROM apps WHERE name = ? AND "+userAppsCond+" ORDER BY id", name, userID, userID))
}
