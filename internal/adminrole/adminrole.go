// Package adminrole grants and revokes Gatehouse's administrator roles
// (Super Administrator, Application Administrator, Read-only
// Administrator) with their rules and System Log events. The admin console
// and the management API's role assignment endpoints both go through
// Service, so that the two never disagree.
package adminrole

import (
	"context"
	"crypto/sha256"
	"slices"
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

// Grant is one role held by one person, or by one group: a person's list
// of grants also has those of the groups they are a member of (GroupID set).
type Grant struct {
	UserID string
	// GroupID is the group that holds the role, "" for a person's own.
	GroupID string
	Role    string
	Created time.Time
}

// ID is the grant's role assignment id in the API.
func (g Grant) ID() string {
	if g.GroupID != "" {
		return GroupAssignmentID(g.GroupID, g.Role)
	}
	return AssignmentID(g.UserID, g.Role)
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

// GroupAssignmentID is AssignmentID for a role held by a group: "gra" and
// 17 characters, as Okta's group role assignments are named.
func GroupAssignmentID(groupID, role string) string {
	sum := sha256.Sum256([]byte("gatehouse group role assignment\x00" + groupID + "\x00" + role))
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	out := []byte("gra")
	for _, b := range sum[:17] {
		out = append(out, alphabet[int(b)%len(alphabet)])
	}
	return string(out)
}

// Store keeps the roles (sqlstore.TokenStore implements it). A person's
// roles are their own and those of the groups they are a member of.
type Store interface {
	// AdminRoles lists the roles a person holds, in their own name or
	// through a group, each once.
	AdminRoles(ctx context.Context, userID string) ([]string, error)
	// ActingRoles is AdminRoles, but none for a person who is SUSPENDED
	// or DEPROVISIONED.
	ActingRoles(ctx context.Context, userID string) ([]string, error)
	// RoleGrants lists the person's own grants, then those of their
	// groups (GroupID set), in group and role order.
	RoleGrants(ctx context.Context, userID string) ([]Grant, error)
	// GrantRole stores the grant and its event in one transaction; a role
	// the person already holds is ErrAlreadyAssigned, and nothing is
	// written.
	GrantRole(ctx context.Context, userID, role string, at time.Time, ev audit.Event) error
	// RevokeRole removes the role and stores its event in one transaction;
	// a role the person does not hold is errs.NotFound; CheckUserRevoke
	// refuses the Super Administrator role of the last active super
	// administrator.
	RevokeRole(ctx context.Context, userID, role string, ev audit.Event) error
	// AdminUsers lists the ids of the people who hold a role (in their
	// own name or through a group), in id order, after the given id, at
	// most limit.
	AdminUsers(ctx context.Context, after string, limit int) ([]string, error)
	// GroupRoleGrants lists a group's roles (GroupID set, UserID empty).
	GroupRoleGrants(ctx context.Context, groupID string) ([]Grant, error)
	// GroupGrants lists every role held by a group, in group and role
	// order.
	GroupGrants(ctx context.Context) ([]Grant, error)
	// GrantGroupRole is GrantRole for a group (errs.NotFound for a group
	// that does not exist).
	GrantGroupRole(ctx context.Context, groupID, role string, at time.Time, ev audit.Event) error
	// RevokeGroupRole is RevokeRole for a group; CheckGroupRevoke refuses
	// the revoke that would leave no active super administrator.
	RevokeGroupRole(ctx context.Context, groupID, role string, ev audit.Event) error
}

// Tx is what the rules about the last super administrator read inside a
// transaction (sqlstore.Tx implements it). Every check takes
// LockSuperAdmins first and then reads, so that two changes at once are
// checked one after the other, each seeing the other's outcome.
type Tx interface {
	// LockSuperAdmins serializes, until the transaction ends, every change
	// that can take the Super Administrator role from someone.
	LockSuperAdmins() error
	// SuperAdminHolds reports whether the person holds SUPER_ADMIN in
	// their own name, and through a group.
	SuperAdminHolds(userID string) (own, viaGroup bool, err error)
	// OtherActiveSuperAdmins reports whether an ACTIVE person other than
	// exceptUser holds SUPER_ADMIN in their own name (own), and in their
	// own name or through a group other than exceptGroup (any).
	OtherActiveSuperAdmins(exceptUser, exceptGroup string) (own, any bool, err error)
	// GroupHasActiveMember reports whether an ACTIVE person is a member of
	// the group.
	GroupHasActiveMember(groupID string) (bool, error)
	// GroupRoles lists the roles the group holds.
	GroupRoles(groupID string) ([]string, error)
}

// ErrAlreadyAssigned is Okta's E0000090 (409).
var ErrAlreadyAssigned = &errs.Error{Kind: errs.Conflict, Code: "E0000090", Msg: "The role specified is already assigned to the user."}

// ErrLastSuperAdmin refuses a revoke that would leave no active super
// administrator.
var ErrLastSuperAdmin = errs.IllegalStatef("The last active Super Administrator cannot lose the role; grant it to another person first.")

// ErrLastSuperAdminGroup refuses a group revoke (or a group's deletion)
// that would leave no active super administrator.
var ErrLastSuperAdminGroup = errs.IllegalStatef("The members of this group are the last active Super Administrators; grant the role to another person first.")

// ErrLastSuperAdminLeaves refuses a lifecycle operation (deactivate,
// suspend, delete, expire or reset the password) or a group membership
// removal that would leave no active super administrator.
var ErrLastSuperAdminLeaves = errs.IllegalStatef("This person is the last active Super Administrator; grant the role to another person first.")

// ErrOwnSuperAdmin refuses a super administrator revoking their own
// Super Administrator role.
var ErrOwnSuperAdmin = errs.IllegalStatef("You cannot revoke your own Super Administrator role; ask another super administrator.")

// ErrThroughGroup refuses revoking, on a person, a role they hold through
// a group: Okta revokes it on the group.
func ErrThroughGroup(groupID string) error {
	return errs.IllegalStatef("This role is assigned through the group %s; unassign it from the group (/api/v1/groups/%s/roles).", groupID, groupID)
}

// CheckUserRevoke refuses revoking the Super Administrator role of userID
// when no other ACTIVE person holds it in their own name: as in Okta,
// every org keeps at least one individually assigned super administrator,
// and people who hold the role through a group do not count.
func CheckUserRevoke(tx Tx, userID string) error {
	if err := tx.LockSuperAdmins(); err != nil {
		return err
	}
	own, _, err := tx.SuperAdminHolds(userID)
	if err != nil || !own {
		return err // a role not held is the caller's NotFound
	}
	others, _, err := tx.OtherActiveSuperAdmins(userID, "")
	if err != nil {
		return err
	}
	if !others {
		return ErrLastSuperAdmin
	}
	return nil
}

// CheckGroupRevoke refuses taking the Super Administrator role from a
// group (or deleting it) when an ACTIVE member holds it and nobody else
// ACTIVE does, in their own name or through another group.
func CheckGroupRevoke(tx Tx, groupID string) error {
	if err := tx.LockSuperAdmins(); err != nil {
		return err
	}
	active, err := tx.GroupHasActiveMember(groupID)
	if err != nil || !active {
		return err
	}
	_, others, err := tx.OtherActiveSuperAdmins("", groupID)
	if err != nil {
		return err
	}
	if !others {
		return ErrLastSuperAdminGroup
	}
	return nil
}

// CheckLeaves runs after a change, in its transaction, that takes a
// super administrator out of ACTIVE: it is refused when they hold the
// role in their own name and no other ACTIVE person does (Okta's
// individually assigned super administrator), or when no other ACTIVE
// person holds it at all.
func CheckLeaves(tx Tx, userID string) error {
	own, via, err := tx.SuperAdminHolds(userID)
	if err != nil || (!own && !via) {
		return err
	}
	if err := tx.LockSuperAdmins(); err != nil {
		return err
	}
	ownOthers, anyOthers, err := tx.OtherActiveSuperAdmins(userID, "")
	if err != nil {
		return err
	}
	if (own && !ownOthers) || !anyOthers {
		return ErrLastSuperAdminLeaves
	}
	return nil
}

// Service applies the rules of granting and revoking roles.
type Service struct {
	Store  Store
	Events audit.Builder
	Now    func() time.Time
}

// AdminRoles lists the roles a person holds now, in their own name or
// through a group.
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

// Grants lists the person's grants: their own, then their groups'.
func (s *Service) Grants(ctx context.Context, userID string) ([]Grant, error) {
	return s.Store.RoleGrants(ctx, userID)
}

// GroupGrants lists a group's roles.
func (s *Service) GroupGrants(ctx context.Context, groupID string) ([]Grant, error) {
	return s.Store.GroupRoleGrants(ctx, groupID)
}

// AllGroupGrants lists every role held by a group.
func (s *Service) AllGroupGrants(ctx context.Context) ([]Grant, error) {
	return s.Store.GroupGrants(ctx)
}

// Assignees lists the ids of the people who hold a role, in their own
// name or through a group, in id order.
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

// GrantGroup gives the group the role (every member holds it) and logs
// group.privilege.grant.
func (s *Service) GrantGroup(ctx context.Context, g *directory.Group, role string) (Grant, error) {
	if !Valid(role) {
		return Grant{}, InvalidRole(role)
	}
	at := s.Now().UTC().Truncate(time.Millisecond)
	ev := s.Events.New(ctx, "group.privilege.grant", "Grant group privilege", audit.Success, audit.GroupTarget(g.ID, g.Name))
	ev.Debug = map[string]string{"privilegeGranted": role}
	if err := s.Store.GrantGroupRole(ctx, g.ID, role, at, ev); err != nil {
		return Grant{}, err
	}
	return Grant{GroupID: g.ID, Role: role, Created: at}, nil
}

// RevokeGroup takes the role from the group and logs
// group.privilege.revoke; the Super Administrator role stays with a group
// whose members are the last active super administrators.
func (s *Service) RevokeGroup(ctx context.Context, g *directory.Group, role string) error {
	if !Valid(role) {
		return InvalidRole(role)
	}
	ev := s.Events.New(ctx, "group.privilege.revoke", "Revoke group privilege", audit.Success, audit.GroupTarget(g.ID, g.Name))
	ev.Debug = map[string]string{"privilegeRevoked": role}
	return s.Store.RevokeGroupRole(ctx, g.ID, role, ev)
}

func ruleTx(dtx directory.Tx) (Tx, error) {
	tx, ok := dtx.(Tx)
	if !ok {
		return nil, errs.Wrap(errs.Internal, "Internal Server Error", errNoRoleTx)
	}
	return tx, nil
}

var errNoRoleTx = errs.New(errs.Internal, "adminrole: the directory transaction cannot read administrator roles")

// OnUserChange is the directory hook that keeps an active super
// administrator: a change that takes an ACTIVE person out of ACTIVE
// (deactivate, suspend, delete, expire or reset the password, through the
// API or the console) is refused by CheckLeaves when they are the last.
// Sign-in lockouts do not run directory hooks and are never refused.
func (s *Service) OnUserChange(_ context.Context, dtx directory.Tx, before, after *directory.User) error {
	if before == nil || before.Status != directory.Active || (after != nil && after.Status == directory.Active) {
		return nil
	}
	tx, err := ruleTx(dtx)
	if err != nil {
		return err
	}
	return CheckLeaves(tx, before.ID)
}

// OnMembership is the directory hook that refuses removing an ACTIVE
// person from a group that holds the Super Administrator role when they
// thereby lose the role and nobody else ACTIVE holds it.
func (s *Service) OnMembership(_ context.Context, dtx directory.Tx, g *directory.Group, u *directory.User, added bool) error {
	if added || u.Status != directory.Active {
		return nil
	}
	tx, err := ruleTx(dtx)
	if err != nil {
		return err
	}
	roles, err := tx.GroupRoles(g.ID)
	if err != nil || !slices.Contains(roles, SuperAdmin) {
		return err
	}
	if err := tx.LockSuperAdmins(); err != nil {
		return err
	}
	own, via, err := tx.SuperAdminHolds(u.ID)
	if err != nil || own || via {
		return err
	}
	_, others, err := tx.OtherActiveSuperAdmins(u.ID, "")
	if err != nil {
		return err
	}
	if !others {
		return ErrLastSuperAdminLeaves
	}
	return nil
}

// OnGroupDelete is the directory hook that refuses deleting a group whose
// members are the last active super administrators, and logs
// group.privilege.revoke for each role the deleted group held.
func (s *Service) OnGroupDelete(ctx context.Context, dtx directory.Tx, g *directory.Group) error {
	tx, err := ruleTx(dtx)
	if err != nil {
		return err
	}
	roles, err := tx.GroupRoles(g.ID)
	if err != nil {
		return err
	}
	for _, role := range roles {
		if role == SuperAdmin {
			if err := CheckGroupRevoke(tx, g.ID); err != nil {
				return err
			}
		}
		ev := s.Events.New(ctx, "group.privilege.revoke", "Revoke group privilege", audit.Success, audit.GroupTarget(g.ID, g.Name))
		ev.Debug = map[string]string{"privilegeRevoked": role}
		if err := dtx.Append(ev); err != nil {
			return err
		}
	}
	return nil
}
