// Package adminrole grants and revokes Gatehouse's administrator roles
// (Super Administrator, Application Administrator, Read-only
// Administrator) with their rules and System Log events. The admin console
// and the management API's role assignment endpoints both go through
// Service, so that the two never disagree.
package adminrole

import (
	"context"
	"crypto/sha256"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
)

// The roles, named as Okta names their types.
const (
	SuperAdmin    = "SUPER_ADMIN"
	AppAdmin      = "APP_ADMIN"
	ReadOnlyAdmin = "READ_ONLY_ADMIN"
)

// Types are Gatehouse's roles, from the most to the least powerful.
var Types = []string{SuperAdmin, AppAdmin, ReadOnlyAdmin}

// Valid reports whether role is one of Gatehouse's roles.
func Valid(role string) bool { return Rank(role) > 0 }

// Rank orders the roles: each includes everything the ones below it may
// do (an application administrator also reads everything). 0 for anything
// that is not a role.
func Rank(role string) int {
	switch role {
	case SuperAdmin:
		return 3
	case AppAdmin:
		return 2
	case ReadOnlyAdmin:
		return 1
	}
	return 0
}

// Highest is the most powerful of roles, "" when there is none.
func Highest(roles []string) string {
	best := ""
	for _, r := range roles {
		if Rank(r) > Rank(best) {
			best = r
		}
	}
	return best
}

// Label is the role's name as Okta's Role object gives it.
func Label(role string) string {
	switch role {
	case SuperAdmin:
		return "Super Organization Administrator"
	case AppAdmin:
		return "Application Administrator"
	case ReadOnlyAdmin:
		return "Read-only Administrator"
	}
	return role
}

// Grant is one role held by one person.
type Grant struct {
	UserID  string
	Role    string
	Created time.Time
}

// AssignmentID is the role assignment's id in the API: the same for a
// person and a role every time (also after a revoke and a new grant), and
// different for every other person or role.
func AssignmentID(userID, role string) string {
	sum := sha256.Sum256([]byte("gatehouse role assignment\x00" + userID + "\x00" + role))
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	out := []byte("ra")
	for _, b := range sum[:18] {
		out = append(out, alphabet[int(b)%len(alphabet)])
	}
	return string(out)
}

// Store keeps the roles (sqlstore.TokenStore implements it).
type Store interface {
	AdminRoles(ctx context.Context, userID string) ([]string, error)
	// ActingRoles is AdminRoles, but none for a person who is SUSPENDED
	// or DEPROVISIONED.
	ActingRoles(ctx context.Context, userID string) ([]string, error)
	RoleGrants(ctx context.Context, userID string) ([]Grant, error)
	// GrantRole stores the grant and its event in one transaction; a role
	// the person already holds is ErrAlreadyAssigned, and nothing is
	// written.
	GrantRole(ctx context.Context, userID, role string, at time.Time, ev audit.Event) error
	// RevokeRole removes the role and stores its event in one transaction;
	// a role the person does not hold is errs.NotFound; revoking the
	// Super Administrator role of the last active super administrator is
	// ErrLastSuperAdmin.
	RevokeRole(ctx context.Context, userID, role string, ev audit.Event) error
	// AdminUsers lists the ids of the people who hold a role, in id order,
	// after the given id, at most limit.
	AdminUsers(ctx context.Context, after string, limit int) ([]string, error)
}

// ErrAlreadyAssigned is Okta's E0000090 (409).
var ErrAlreadyAssigned = &errs.Error{Kind: errs.Conflict, Code: "E0000090", Msg: "The role specified is already assigned to the user."}

// ErrLastSuperAdmin refuses a revoke that would leave no active super
// administrator.
var ErrLastSuperAdmin = errs.IllegalStatef("The last active Super Administrator cannot lose the role; grant it to another person first.")

// ErrOwnSuperAdmin refuses a super administrator revoking their own
// Super Administrator role.
var ErrOwnSuperAdmin = errs.IllegalStatef("You cannot revoke your own Super Administrator role; ask another super administrator.")

// Service applies the rules of granting and revoking roles.
type Service struct {
	Store  Store
	Events audit.Builder
	Now    func() time.Time
}

// AdminRoles lists the roles a person holds now.
func (s *Service) AdminRoles(ctx context.Context, userID string) ([]string, error) {
	return s.Store.AdminRoles(ctx, userID)
}

// ActingRole is the highest role a person can act with now (through an
// API token): "" for none, also while they are suspended or deactivated.
func (s *Service) ActingRole(ctx context.Context, userID string) (string, error) {
	roles, err := s.Store.ActingRoles(ctx, userID)
	if err != nil {
		return "", err
	}
	return Highest(roles), nil
}

// Grants lists the person's grants, in role order.
func (s *Service) Grants(ctx context.Context, userID string) ([]Grant, error) {
	return s.Store.RoleGrants(ctx, userID)
}

// Assignees lists the ids of the people who hold a role, in id order.
func (s *Service) Assignees(ctx context.Context, after string, limit int) ([]string, error) {
	return s.Store.AdminUsers(ctx, after, limit)
}

// InvalidRole is the error for a role type Gatehouse does not have.
func InvalidRole(role string) error {
	return errs.InvalidFields("Api validation failed: type",
		errs.Field("type", "type: '%s' is not a role Gatehouse has; use one of SUPER_ADMIN, APP_ADMIN, READ_ONLY_ADMIN", role))
}

// Grant gives u the role and logs user.account.privilege.grant. Only an
// ACTIVE person can be made an administrator.
func (s *Service) Grant(ctx context.Context, u *directory.User, role string) (Grant, error) {
	if !Valid(role) {
		return Grant{}, InvalidRole(role)
	}
	if u.Status != directory.Active {
		return Grant{}, errs.InvalidFields("Api validation failed: user",
			errs.Field("user", "user: %s is %s; only an ACTIVE user can be assigned an administrator role", u.Login(), u.Status))
	}
	at := s.Now().UTC().Truncate(time.Millisecond)
	ev := s.Events.New(ctx, "user.account.privilege.grant", "Grant user privilege", audit.Success, audit.UserTarget(u.ID, u.Login(), u.DisplayName()))
	ev.Debug = map[string]string{"privilegeGranted": role}
	if err := s.Store.GrantRole(ctx, u.ID, role, at, ev); err != nil {
		return Grant{}, err
	}
	return Grant{UserID: u.ID, Role: role, Created: at}, nil
}

// Revoke takes the role from u and logs user.account.privilege.revoke.
// actorID is the administrator asking (the signed-in person or the API
// token's owner; "" for a token without one): nobody revokes their own
// Super Administrator role, and the last active super administrator keeps
// theirs.
func (s *Service) Revoke(ctx context.Context, actorID string, u *directory.User, role string) error {
	if !Valid(role) {
		return InvalidRole(role)
	}
	if role == SuperAdmin && actorID != "" && u.ID == actorID {
		return ErrOwnSuperAdmin
	}
	ev := s.Events.New(ctx, "user.account.privilege.revoke", "Revoke user privilege", audit.Success, audit.UserTarget(u.ID, u.Login(), u.DisplayName()))
	ev.Debug = map[string]string{"privilegeRevoked": role}
	return s.Store.RevokeRole(ctx, u.ID, role, ev)
}
