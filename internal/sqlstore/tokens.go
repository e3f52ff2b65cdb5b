package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/gatehouse/gatehouse/internal/adminrole"
	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/errs"
)

// APIToken is a stored API token; only the hash of its value is kept.
type APIToken struct {
	ID        string
	Name      string
	Hash      string
	UserID    string
	Role      string
	Created   time.Time
	LastUsed  *time.Time
	ExpiresAt *time.Time
	Revoked   *time.Time
}

// Tokens returns the API token store.
func (db *DB) Tokens() TokenStore { return TokenStore{db} }

// TokenStore keeps API tokens.
type TokenStore struct{ db *DB }

const tokenCols = "id, name, token_hash, user_id, role, created, last_used, expires_at, revoked"

func scanToken(sc scanner) (*APIToken, error) {
	var t APIToken
	var created int64
	var lastUsed, expires, revoked sql.NullInt64
	if err := sc.Scan(&t.ID, &t.Name, &t.Hash, &t.UserID, &t.Role, &created, &lastUsed, &expires, &revoked); err != nil {
		return nil, err
	}
	t.Created, t.LastUsed, t.ExpiresAt, t.Revoked = fromMs(created), fromNullMs(lastUsed), fromNullMs(expires), fromNullMs(revoked)
	return &t, nil
}

// Create stores a new token and its log event.
func (s TokenStore) Create(ctx context.Context, t *APIToken, ev audit.Event) error {
	return s.db.InTx(ctx, func(tx *Tx) error {
		if _, err := tx.exec("INSERT INTO api_tokens ("+tokenCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
			t.ID, t.Name, t.Hash, t.UserID, t.Role, ms(t.Created), msPtr(t.LastUsed), msPtr(t.ExpiresAt), msPtr(t.Revoked)); err != nil {
			return err
		}
		return tx.Append(ev)
	})
}

// ByHash finds a token by the hash of its value.
func (s TokenStore) ByHash(ctx context.Context, hash string) (*APIToken, error) {
	t, err := scanToken(s.db.queryRow(ctx, "SELECT "+tokenCols+" FROM api_tokens WHERE token_hash = ?", hash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.New(errs.Unauthorized, "Invalid token provided")
	}
	return t, err
}

// Get finds a token by id.
func (s TokenStore) Get(ctx context.Context, id string) (*APIToken, error) {
	t, err := scanToken(s.db.queryRow(ctx, "SELECT "+tokenCols+" FROM api_tokens WHERE id = ?", id))
	return t, notFound(err, id+" (ApiToken)")
}

// List lists tokens that are not revoked.
func (s TokenStore) List(ctx context.Context) ([]*APIToken, error) {
	rows, err := s.db.query(ctx, "SELECT "+tokenCols+" FROM api_tokens WHERE revoked IS NULL ORDER BY created, id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*APIToken{}
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Revoke marks a token revoked, with its log event.
func (s TokenStore) Revoke(ctx context.Context, id string, at time.Time, ev audit.Event) error {
	return s.db.InTx(ctx, func(tx *Tx) error {
		res, err := tx.exec("UPDATE api_tokens SET revoked = ? WHERE id = ? AND revoked IS NULL", ms(at), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFoundf("Not found: Resource not found: %s (ApiToken)", id)
		}
		return tx.Append(ev)
	})
}

// Touch records a use of the token, at most once a minute per token.
func (s TokenStore) Touch(ctx context.Context, id string, at time.Time) error {
	_, err := s.db.exec(ctx, "UPDATE api_tokens SET last_used = ? WHERE id = ? AND (last_used IS NULL OR last_used < ?)", ms(at), id, ms(at.Add(-time.Minute)))
	return err
}

// AdminRoles lists the admin roles of a user: their own and those of
// their groups, each once.
func (s TokenStore) AdminRoles(ctx context.Context, userID string) ([]string, error) {
	return scanStrings(s.db.query(ctx, "SELECT role FROM admin_roles WHERE user_id = ? UNION "+
		"SELECT g.role FROM group_admin_roles g JOIN group_members m ON m.group_id = g.group_id WHERE m.user_id = ? ORDER BY 1", userID, userID))
}

// ActingRoles lists the admin roles a user can act with now (their own
// and their groups'): none while the user is SUSPENDED or DEPROVISIONED
// (their API tokens then do nothing, as Okta's stop working for a
// deactivated administrator).
func (s TokenStore) ActingRoles(ctx context.Context, userID string) ([]string, error) {
	return scanStrings(s.db.query(ctx, "SELECT role FROM ("+
		"SELECT role FROM admin_roles WHERE user_id = ? UNION "+
		"SELECT g.role FROM group_admin_roles g JOIN group_members m ON m.group_id = g.group_id WHERE m.user_id = ?"+
		") r WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = ? AND u.status NOT IN ('SUSPENDED', 'DEPROVISIONED')) ORDER BY 1", userID, userID, userID))
}

func scanGrants(rows *sql.Rows, err error, userID string) ([]adminrole.Grant, error) {
	out, err := scanAll(rows, err, func(sc scanner) (adminrole.Grant, error) {
		g := adminrole.Grant{UserID: userID}
		var created int64
		err := sc.Scan(&g.GroupID, &g.Role, &created)
		g.Created = fromMs(created)
		return g, err
	})
	if out == nil && err == nil {
		out = []adminrole.Grant{}
	}
	return out, err
}

// RoleGrants lists a user's admin roles with when each was granted: their
// own, then their groups' (GroupID set), in group and role order.
func (s TokenStore) RoleGrants(ctx context.Context, userID string) ([]adminrole.Grant, error) {
	rows, err := s.db.query(ctx, "SELECT '' AS group_id, role, created FROM admin_roles WHERE user_id = ? UNION ALL "+
		"SELECT g.group_id, g.role, g.created FROM group_admin_roles g JOIN group_members m ON m.group_id = g.group_id WHERE m.user_id = ? ORDER BY 1, 2", userID, userID)
	return scanGrants(rows, err, userID)
}

// GroupRoleGrants lists a group's admin roles, in role order.
func (s TokenStore) GroupRoleGrants(ctx context.Context, groupID string) ([]adminrole.Grant, error) {
	rows, err := s.db.query(ctx, "SELECT group_id, role, created FROM group_admin_roles WHERE group_id = ? ORDER BY role", groupID)
	return scanGrants(rows, err, "")
}

// GroupGrants lists every admin role held by a group, in group and role
// order.
func (s TokenStore) GroupGrants(ctx context.Context) ([]adminrole.Grant, error) {
	rows, err := s.db.query(ctx, "SELECT group_id, role, created FROM group_admin_roles ORDER BY group_id, role")
	return scanGrants(rows, err, "")
}

// AdminUsers lists, in id order, the ids of the users that hold an admin
// role (their own or through a group), after the given id, at most limit
// of them.
func (s TokenStore) AdminUsers(ctx context.Context, after string, limit int) ([]string, error) {
	return scanStrings(s.db.query(ctx, "SELECT user_id FROM (SELECT user_id FROM admin_roles UNION "+
		"SELECT m.user_id FROM group_admin_roles g JOIN group_members m ON m.group_id = g.group_id) a WHERE user_id > ? ORDER BY user_id LIMIT ?", after, limit))
}

// GrantRole gives a user an admin role, with its log event; a role the
// user already holds is adminrole.ErrAlreadyAssigned and writes nothing.
func (s TokenStore) GrantRole(ctx context.Context, userID, role string, at time.Time, ev audit.Event) error {
	return s.db.InTx(ctx, func(tx *Tx) error {
		if err := tx.execOne(adminrole.ErrAlreadyAssigned, "INSERT INTO admin_roles (user_id, role, created) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", userID, role, ms(at)); err != nil {
			return err
		}
		return tx.Append(ev)
	})
}

// RevokeRole removes an admin role from a user, with its log event. A
// role the user does not hold is errs.NotFound; the Super Administrator
// role of the last ACTIVE super administrator is adminrole.ErrLastSuperAdmin
// (adminrole.CheckUserRevoke, under the super administrators' lock, so
// that two revokes at once cannot both pass the check).
func (s TokenStore) RevokeRole(ctx context.Context, userID, role string, ev audit.Event) error {
	return s.db.InTx(ctx, func(tx *Tx) error {
		if role == adminrole.SuperAdmin {
			if err := adminrole.CheckUserRevoke(tx, userID); err != nil {
				return err
			}
		}
		if err := tx.execOne(errs.NotFoundf("Not found: Resource not found: %s (Role)", role), "DELETE FROM admin_roles WHERE user_id = ? AND role = ?", userID, role); err != nil {
			return err
		}
		return tx.Append(ev)
	})
}

// GrantGroupRole gives a group an admin role, with its log event: an
// unknown group is errs.NotFound, a role the group already holds
// adminrole.ErrAlreadyAssigned, and nothing is written.
func (s TokenStore) GrantGroupRole(ctx context.Context, groupID, role string, at time.Time, ev audit.Event) error {
	return s.db.InTx(ctx, func(tx *Tx) error {
		var one int
		// The group's row lock orders this with a group rule created to
		// target it (Tx.AdminGroup).
		if err := tx.queryRow("SELECT 1 FROM groups WHERE id = ?"+tx.forUpdate(), groupID).Scan(&one); err != nil {
			return notFound(err, groupID+" (UserGroup)")
		}
		var targeted bool
		if err := tx.queryRow("SELECT EXISTS (SELECT 1 FROM group_rule_targets WHERE group_id = ?)", groupID).Scan(&targeted); err != nil {
			return err
		}
		if targeted {
			return adminrole.ErrGroupRuleTarget
		}
		if err := tx.execOne(adminrole.ErrAlreadyAssigned, "INSERT INTO group_admin_roles (group_id, role, created) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", groupID, role, ms(at)); err != nil {
			return err
		}
		return tx.Append(ev)
	})
}

// RevokeGroupRole removes an admin role from a group, with its log event:
// a role the group does not hold is errs.NotFound, and the Super
// Administrator role of a group whose members are the last active super
// administrators is refused (adminrole.CheckGroupRevoke).
func (s TokenStore) RevokeGroupRole(ctx context.Context, groupID, role string, ev audit.Event) error {
	return s.db.InTx(ctx, func(tx *Tx) error {
		if role == adminrole.SuperAdmin {
			if err := adminrole.CheckGroupRevoke(tx, groupID); err != nil {
				return err
			}
		}
		if err := tx.execOne(errs.NotFoundf("Not found: Resource not found: %s (Role)", role), "DELETE FROM group_admin_roles WHERE group_id = ? AND role = ?", groupID, role); err != nil {
			return err
		}
		return tx.Append(ev)
	})
}

// superAdminLockClass is the first key of the PostgreSQL advisory lock
// that serializes the changes that can take the Super Administrator role
// from someone (adminrole.Tx).
const superAdminLockClass = 7365

// LockSuperAdmins takes the super administrators' lock until the
// transaction ends: on PostgreSQL a transaction-scoped advisory lock, so
// that the reads after it (each statement sees what committed before it
// started) see the outcome of the change that held it; SQLite's write
// transactions already run one at a time.
func (t *Tx) LockSuperAdmins() error {
	if t.db.dialect != Postgres {
		return nil
	}
	_, err := t.exec("SELECT pg_advisory_xact_lock(?, 0)", superAdminLockClass)
	return err
}

func (t *Tx) exists(q string, args ...any) (bool, error) {
	var one int
	err := t.queryRow(q, args...).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// SuperAdminHolds reports whether the user holds SUPER_ADMIN in their own
// name, and through a group.
func (t *Tx) SuperAdminHolds(userID string) (own, viaGroup bool, err error) {
	if own, err = t.exists("SELECT 1 FROM admin_roles WHERE user_id = ? AND role = 'SUPER_ADMIN'", userID); err != nil {
		return false, false, err
	}
	viaGroup, err = t.exists("SELECT 1 FROM group_members m JOIN group_admin_roles g ON g.group_id = m.group_id WHERE m.user_id = ? AND g.role = 'SUPER_ADMIN' LIMIT 1", userID)
	return own, viaGroup, err
}

// OtherActiveSuperAdmins reports whether an ACTIVE user other than
// exceptUser holds SUPER_ADMIN in their own name (own), and in their own
// name or through a group other than exceptGroup (any).
func (t *Tx) OtherActiveSuperAdmins(exceptUser, exceptGroup string) (own, any bool, err error) {
	if own, err = t.exists("SELECT 1 FROM admin_roles r JOIN users u ON u.id = r.user_id WHERE r.role = 'SUPER_ADMIN' AND u.status = 'ACTIVE' AND r.user_id <> ? LIMIT 1", exceptUser); err != nil || own {
		return own, own, err
	}
	any, err = t.exists("SELECT 1 FROM group_admin_roles g JOIN group_members m ON m.group_id = g.group_id JOIN users u ON u.id = m.user_id "+
		"WHERE g.role = 'SUPER_ADMIN' AND g.group_id <> ? AND u.status = 'ACTIVE' AND m.user_id <> ? LIMIT 1", exceptGroup, exceptUser)
	return false, any, err
}

// GroupHasActiveMember reports whether an ACTIVE user is a member of the
// group.
func (t *Tx) GroupHasActiveMember(groupID string) (bool, error) {
	return t.exists("SELECT 1 FROM group_members m JOIN users u ON u.id = m.user_id WHERE m.group_id = ? AND u.status = 'ACTIVE' LIMIT 1", groupID)
}

// GroupRoles lists the admin roles of a group.
func (t *Tx) GroupRoles(groupID string) ([]string, error) {
	return scanStrings(t.query("SELECT role FROM group_admin_roles WHERE group_id = ? ORDER BY role", groupID))
}
