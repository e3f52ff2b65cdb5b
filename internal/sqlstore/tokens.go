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

// AdminRoles lists the admin roles of a user.
func (s TokenStore) AdminRoles(ctx context.Context, userID string) ([]string, error) {
	return scanStrings(s.db.query(ctx, "SELECT role FROM admin_roles WHERE user_id = ? ORDER BY role", userID))
}

// ActingRoles lists the admin roles a user can act with now: none while
// the user is SUSPENDED or DEPROVISIONED (their API tokens then do
// nothing, as Okta's stop working for a deactivated administrator).
func (s TokenStore) ActingRoles(ctx context.Context, userID string) ([]string, error) {
	return scanStrings(s.db.query(ctx, "SELECT r.role FROM admin_roles r JOIN users u ON u.id = r.user_id WHERE r.user_id = ? AND u.status NOT IN ('SUSPENDED', 'DEPROVISIONED') ORDER BY r.role", userID))
}

// RoleGrants lists a user's admin roles with when each was granted.
func (s TokenStore) RoleGrants(ctx context.Context, userID string) ([]adminrole.Grant, error) {
	rows, err := s.db.query(ctx, "SELECT role, created FROM admin_roles WHERE user_id = ? ORDER BY role", userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []adminrole.Grant{}
	for rows.Next() {
		g := adminrole.Grant{UserID: userID}
		var created int64
		if err := rows.Scan(&g.Role, &created); err != nil {
			return nil, err
		}
		g.Created = fromMs(created)
		out = append(out, g)
	}
	return out, rows.Err()
}

// AdminUsers lists, in id order, the ids of the users that hold an admin
// role, after the given id, at most limit of them.
func (s TokenStore) AdminUsers(ctx context.Context, after string, limit int) ([]string, error) {
	return scanStrings(s.db.query(ctx, "SELECT DISTINCT user_id FROM admin_roles WHERE user_id > ? ORDER BY user_id LIMIT ?", after, limit))
}

// GrantRole gives a user an admin role, with its log event; a role the
// user already holds is adminrole.ErrAlreadyAssigned and writes nothing.
func (s TokenStore) GrantRole(ctx context.Context, userID, role string, at time.Time, ev audit.Event) error {
	return s.db.InTx(ctx, func(tx *Tx) error {
		res, err := tx.exec("INSERT INTO admin_roles (user_id, role, created) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", userID, role, ms(at))
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return adminrole.ErrAlreadyAssigned
		}
		return tx.Append(ev)
	})
}

// RevokeRole removes an admin role from a user, with its log event. A
// role the user does not hold is errs.NotFound; the Super Administrator
// role of the last ACTIVE super administrator is adminrole.ErrLastSuperAdmin
// (the super administrators' rows are locked first, so two revokes at
// once cannot both pass the check).
func (s TokenStore) RevokeRole(ctx context.Context, userID, role string, ev audit.Event) error {
	return s.db.InTx(ctx, func(tx *Tx) error {
		if role == adminrole.SuperAdmin {
			rows, err := tx.query("SELECT r.user_id, u.status FROM admin_roles r JOIN users u ON u.id = r.user_id WHERE r.role = ? ORDER BY r.user_id"+tx.forUpdateOf("r"), role)
			if err != nil {
				return err
			}
			held, others := false, 0
			for rows.Next() {
				var id, status string
				if err := rows.Scan(&id, &status); err != nil {
					rows.Close()
					return err
				}
				if id == userID {
					held = true
				} else if status == "ACTIVE" {
					others++
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
			if held && others == 0 {
				return adminrole.ErrLastSuperAdmin
			}
		}
		res, err := tx.exec("DELETE FROM admin_roles WHERE user_id = ? AND role = ?", userID, role)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return errs.NotFoundf("Not found: Resource not found: %s (Role)", role)
		}
		return tx.Append(ev)
	})
}
