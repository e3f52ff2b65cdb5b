package directory

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/credential"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/ids"
)

// Hasher hashes and verifies passwords.
type Hasher interface {
	Hash(ctx context.Context, password string) (string, error)
	Verify(ctx context.Context, encoded, password string) (ok, needsRehash bool, err error)
}

// ChangeHook is told, inside the transaction, about every change to a
// user: creation (before nil), update, and deletion (after nil). Other
// domains use it to record their own consequences (provisioning jobs)
// atomically with the change.
type ChangeHook func(ctx context.Context, tx Tx, before, after *User) error

// MembershipHook is told, inside the transaction, about a membership an
// administrator (or a new user's groupIds) asked for: added is true for an
// add, even when the person was already a member, and false for a removal
// that removed. Memberships a group rule makes (AddMemberIn, RemoveMemberIn)
// are not reported, so the rules know which memberships are manual.
type MembershipHook func(ctx context.Context, tx Tx, g *Group, u *User, added bool) error

// GroupHook is told, inside the transaction, about a group about to be
// deleted.
type GroupHook func(ctx context.Context, tx Tx, g *Group) error

// Service implements the directory's operations.
type Service struct {
	Store  Store
	Hasher Hasher
	Policy credential.Policy
	// PasswordPolicy, when set, is the password policy in force (the
	// PASSWORD policy's settings); Policy is used otherwise.
	PasswordPolicy func(ctx context.Context) (credential.Policy, error)
	IDs            *ids.Source
	Now            func() time.Time
	Events         audit.Builder
	// OnChange hooks run inside every user write transaction.
	OnChange []ChangeHook
	// OnMembership hooks run inside every manual membership change.
	OnMembership []MembershipHook
	// OnGroupDelete hooks run inside a group's deletion, before it.
	OnGroupDelete []GroupHook
}

// CreateUserInput is a new user.
type CreateUserInput struct {
	Profile          Profile
	Password         string
	ImportedHash     *credential.ImportedHash
	RecoveryQuestion string
	RecoveryAnswer   string
	GroupIDs         []string
	Activate         bool
	// Provider marks a user whose credentials live elsewhere (Okta's
	// provider=true): activation makes them ACTIVE without a password.
	Provider bool
	// ChangePasswordAtNextLogin (nextLogin=changePassword) leaves the user
	// in PASSWORD_EXPIRED after activation.
	ChangePasswordAtNextLogin bool
}

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }

// CreateUser validates and creates a user, with its group memberships and
// log events, atomically.
func (s *Service) CreateUser(ctx context.Context, in CreateUserInput) (*User, error) {
	if in.Password != "" && in.ImportedHash != nil {
		return nil, errs.InvalidFields("Api validation failed: password", errs.Field("password", "Specify either a password value or a hash, not both."))
	}
	// Hashing comes before the transaction (on SQLite a write transaction
	// holds the one writer; a hash inside it would stop every other write
	// for its tens of milliseconds), after the checks that refuse the input
	// cheaply, in the order the transaction would report them.
	var pwHash, answerHash string
	recovery := in.RecoveryQuestion != "" || in.RecoveryAnswer != ""
	if in.Password != "" || recovery {
		schema, err := s.Store.Schema(ctx)
		if err != nil {
			return nil, err
		}
		profile, err := schema.Normalize(in.Profile)
		if err != nil {
			return nil, err
		}
		if in.Password != "" {
			if err := s.checkPolicy(ctx, in.Password, profile, nil); err != nil {
				return nil, err
			}
		}
		if recovery && len(strings.TrimSpace(in.RecoveryAnswer)) < 4 {
			return nil, errs.InvalidFields("Api validation failed: recovery_question", errs.Field("recovery_question", "The security question answer must be at least 4 characters in length"))
		}
		if in.Password != "" {
			if pwHash, err = s.Hasher.Hash(ctx, in.Password); err != nil {
				return nil, err
			}
		}
		if recovery {
			if answerHash, err = s.Hasher.Hash(ctx, strings.ToLower(strings.TrimSpace(in.RecoveryAnswer))); err != nil {
				return nil, err
			}
		}
	}
	var created *User
	err := s.Store.Update(ctx, func(tx Tx) error {
		schema, err := tx.Schema()
		if err != nil {
			return err
		}
		profile, err := schema.Normalize(in.Profile)
		if err != nil {
			return err
		}
		now := s.now()
		u := &User{ID: s.IDs.NewOrdered(ids.User, now), Status: Staged, Created: now, LastUpdated: now, Profile: profile}
		u.Credentials.Provider = "OKTA"
		if in.Provider {
			u.Credentials.Provider = "FEDERATION"
		}
		if in.Password != "" {
			// The policy was checked against the same login and names
			// before the transaction (base attributes: Normalize keeps them).
			u.Credentials.PasswordHash = pwHash
			u.PasswordChanged = &now
		} else if in.ImportedHash != nil {
			enc, err := in.ImportedHash.Encode()
			if err != nil {
				return err
			}
			u.Credentials.PasswordHash = enc
			u.PasswordChanged = &now
		}
		if recovery {
			u.Credentials.RecoveryQuestion, u.Credentials.RecoveryAnswer = in.RecoveryQuestion, answerHash
		}
		if in.Activate {
			next, err := Next(Staged, OpActivate, u.Credentials.HasPassword() || in.Provider)
			if err != nil {
				return err
			}
			if next == Active && in.ChangePasswordAtNextLogin {
				next = PasswordExpired
			}
			u.Status = next
			u.Activated = &now
			u.StatusChanged = &now
		}
		if err := tx.InsertUser(u); err != nil {
			return err
		}
		if err := s.insertUnique(tx, schema, u); err != nil {
			return err
		}
		target := audit.UserTarget(u.ID, u.Login(), u.DisplayName())
		if err := tx.Append(s.Events.New(ctx, "user.lifecycle.create", "Create okta user", audit.Success, target)); err != nil {
			return err
		}
		if in.Activate {
			if err := tx.Append(s.Events.New(ctx, "user.lifecycle.activate", "Activate Okta user", audit.Success, target)); err != nil {
				return err
			}
		}
		for _, gid := range in.GroupIDs {
			if err := s.manualAdd(ctx, tx, gid, u, now); err != nil {
				return err
			}
		}
		if err := s.hooks(ctx, tx, nil, u); err != nil {
			return err
		}
		created = u
		return nil
	})
	return created, err
}

func (s *Service) hooks(ctx context.Context, tx Tx, before, after *User) error {
	for _, h := range s.OnChange {
		if err := h(ctx, tx, before, after); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) setUnique(tx Tx, schema *Schema, u *User) error {
	vals := map[string]string{}
	for _, a := range schema.UniqueAttributes() {
		if k, ok := UniqueKey(u.Profile[a]); ok {
			vals[a] = k
		}
	}
	return tx.SetUnique(u.ID, vals)
}

// policy is the password policy in force.
func (s *Service) policy(ctx context.Context) (credential.Policy, error) {
	if s.PasswordPolicy != nil {
		return s.PasswordPolicy(ctx)
	}
	return s.Policy, nil
}

// insertUnique records the unique values of a user just inserted (who has
// none recorded yet).
func (s *Service) insertUnique(tx Tx, schema *Schema, u *User) error {
	if len(schema.UniqueAttributes()) == 0 {
		return nil
	}
	return s.setUnique(tx, schema, u)
}

func (s *Service) checkPolicy(ctx context.Context, pw string, p Profile, history []string) error {
	pol, err := s.policy(ctx)
	if err != nil {
		return err
	}
	subj := credential.PolicySubject{Login: p.String("login"), FirstName: p.String("firstName"), LastName: p.String("lastName")}
	return pol.Check(ctx, s.Hasher, pw, subj, history)
}

// UpdateProfile changes a user's profile. With replace, the profile becomes
// exactly p (Okta's PUT); otherwise p is merged into it (POST).
func (s *Service) UpdateProfile(ctx context.Context, idOrLogin string, p Profile, replace bool) (*User, error) {
	var out *User
	err := s.Store.Update(ctx, func(tx Tx) error {
		u, err := tx.UserForUpdate(idOrLogin)
		if err != nil {
			return err
		}
		before := *u
		schema, err := tx.Schema()
		if err != nil {
			return err
		}
		profile, err := updatedProfile(schema, u, p, replace)
		if err != nil {
			return err
		}
		u.Profile = profile
		u.LastUpdated = s.now()
		if err := s.writeChanged(ctx, tx, schema, &before, u, "user.account.update_profile"); err != nil {
			return err
		}
		out = u
		return nil
	})
	return out, err
}

// changeEvents are the display messages of the events writeChanged records.
var changeEvents = map[string]string{
	"user.account.update_profile":  "Update user profile for Okta",
	"user.account.update_password": "User update password for Okta",
}

// writeChanged writes u, changed from before inside tx: its row, its
// unique values, one event of each given type (changeEvents) and the
// hooks of the change.
func (s *Service) writeChanged(ctx context.Context, tx Tx, schema *Schema, before, u *User, eventTypes ...string) error {
	if err := tx.UpdateUser(u); err != nil {
		return err
	}
	if err := s.setUnique(tx, schema, u); err != nil {
		return err
	}
	target := audit.UserTarget(u.ID, u.Login(), u.DisplayName())
	for _, t := range eventTypes {
		if err := tx.Append(s.Events.New(ctx, t, changeEvents[t], audit.Success, target)); err != nil {
			return err
		}
	}
	return s.hooks(ctx, tx, before, u)
}

// updatedProfile is u's profile with p merged into it (or replacing it,
// with replace; a nil value removes an attribute), normalized by schema.
func updatedProfile(schema *Schema, u *User, p Profile, replace bool) (Profile, error) {
	merged := Profile{}
	if !replace {
		for k, v := range u.Profile {
			merged[k] = v
		}
	}
	for k, v := range p {
		if v == nil {
			delete(merged, k)
			continue
		}
		merged[k] = v
	}
	profile, err := schema.Normalize(merged)
	if err != nil {
		if e, ok := errs.As(err); ok {
			e.Msg = "Api validation failed: " + "profile"
		}
		return nil, err
	}
	return profile, nil
}

// setPasswordHash makes h the user's password hash at now, keeping the
// previous one in the history (at most historyCount entries).
func setPasswordHash(u *User, h string, historyCount int, now time.Time) {
	if u.Credentials.PasswordHash != "" {
		u.Credentials.PasswordHistory = trimHistory(append([]string{u.Credentials.PasswordHash}, u.Credentials.PasswordHistory...), historyCount)
	}
	u.Credentials.PasswordHash = h
	u.PasswordChanged, u.LastUpdated = &now, now
}

// UpdateProfileAndPassword changes a user's profile as UpdateProfile does
// and sets a new password as SetPassword does, in one change: the
// password policy is checked against the new profile, and a refused
// profile or password changes nothing.
//
// checkHistory also refuses a password in the history (Okta's strict=true
// on updateUser); without it only the complexity rules apply, as for
// Okta's administrator-set passwords.
func (s *Service) UpdateProfileAndPassword(ctx context.Context, idOrLogin string, p Profile, replace bool, password string, checkHistory bool) (*User, error) {
	if password == "" {
		return nil, errs.InvalidFields("Api validation failed: password", errs.Field("newPassword", "A new password is required."))
	}
	var out *User
	prepare := func(u *User) (string, error) {
		schema, err := s.Store.Schema(ctx)
		if err != nil {
			return "", err
		}
		profile, err := updatedProfile(schema, u, p, replace)
		if err != nil {
			return "", err
		}
		var history []string
		if checkHistory {
			history = passwordHistory(u)
		}
		if err := s.checkPolicy(ctx, password, profile, history); err != nil {
			return "", err
		}
		return s.Hasher.Hash(ctx, password)
	}
	err := updateHashed(ctx, s, idOrLogin, prepare, func(tx Tx, u *User, h string) error {
		before := *u
		schema, err := tx.Schema()
		if err != nil {
			return err
		}
		profile, err := updatedProfile(schema, u, p, replace)
		if err != nil {
			return err
		}
		pol, err := s.policy(ctx)
		if err != nil {
			return err
		}
		now := s.now()
		u.Profile = profile
		setPasswordHash(u, h, pol.HistoryCount, now)
		if u.Status == PasswordExpired || u.Status == Recovery {
			u.Status, u.StatusChanged = Active, &now
		}
		if err := s.writeChanged(ctx, tx, schema, &before, u, "user.account.update_profile", "user.account.update_password"); err != nil {
			return err
		}
		out = u
		return nil
	})
	return out, err
}

// SetPassword sets a new password as an administrator would (no old
// password), checking the policy.
func (s *Service) SetPassword(ctx context.Context, idOrLogin, password string) (*User, error) {
	return s.changePassword(ctx, idOrLogin, "", password, false, false, true)
}

// AdminSetPassword is SetPassword with the history check optional: Okta's
// updateUser sets a password against the complexity rules only, and
// against the history too with strict=true.
func (s *Service) AdminSetPassword(ctx context.Context, idOrLogin, password string, checkHistory bool) (*User, error) {
	return s.changePassword(ctx, idOrLogin, "", password, false, false, checkHistory)
}

// ResetPassword sets the password chosen through a password-reset link:
// the policy and history apply as for SetPassword, and a LOCKED_OUT person
// is unlocked (the reset proves control of their email, which is what
// unlocking asks for).
func (s *Service) ResetPassword(ctx context.Context, idOrLogin, password string) (*User, error) {
	return s.changePassword(ctx, idOrLogin, "", password, false, true, true)
}

// ChangePassword changes a password after checking the old one.
func (s *Service) ChangePassword(ctx context.Context, idOrLogin, oldPassword, newPassword string) (*User, error) {
	return s.changePassword(ctx, idOrLogin, oldPassword, newPassword, true, false, true)
}

func (s *Service) changePassword(ctx context.Context, idOrLogin, oldPw, newPw string, checkOld, unlock, checkHistory bool) (*User, error) {
	if newPw == "" {
		return nil, errs.InvalidFields("Api validation failed: password", errs.Field("newPassword", "A new password is required."))
	}
	var out *User
	// The checks of the old password and the history, and the new hash,
	// are made on the user as read; the change is written if the user is
	// still that version.
	prepare := func(u *User) (string, error) {
		if checkOld {
			ok := false
			if u.Credentials.HasPassword() {
				var err error
				if ok, _, err = s.Hasher.Verify(ctx, u.Credentials.PasswordHash, oldPw); err != nil {
					return "", err
				}
			}
			if !ok {
				return "", &errs.Error{Kind: errs.Forbidden, Code: "E0000014", Msg: "Update of credentials failed", Fields: []errs.FieldError{errs.Field("oldPassword", "Old Password is not correct")}}
			}
		}
		var history []string
		if checkHistory {
			history = passwordHistory(u)
		}
		if err := s.checkPolicy(ctx, newPw, u.Profile, history); err != nil {
			return "", err
		}
		return s.Hasher.Hash(ctx, newPw)
	}
	err := updateHashed(ctx, s, idOrLogin, prepare, func(tx Tx, u *User, h string) error {
		before := *u
		target := audit.UserTarget(u.ID, u.Login(), u.DisplayName())
		now := s.now()
		pol, err := s.policy(ctx)
		if err != nil {
			return err
		}
		setPasswordHash(u, h, pol.HistoryCount, now)
		if u.Status == PasswordExpired || u.Status == Recovery || (unlock && u.Status == LockedOut) {
			if u.Status == LockedOut {
				if err := tx.Append(s.Events.New(ctx, "user.account.unlock", "Unlock user account", audit.Success, target)); err != nil {
					return err
				}
			}
			u.Status = Active
			u.StatusChanged = &now
		}
		if unlock {
			u.FailedLogins = 0
		}
		if err := tx.UpdateUser(u); err != nil {
			return err
		}
		if err := tx.Append(s.Events.New(ctx, "user.account.update_password", "User update password for Okta", audit.Success, target)); err != nil {
			return err
		}
		if err := s.hooks(ctx, tx, &before, u); err != nil {
			return err
		}
		out = u
		return nil
	})
	return out, err
}

// updateHashed changes a user in two steps, so that no password hash runs
// inside a write transaction (on SQLite that transaction holds the one
// writer for the hash's tens of milliseconds): prepare computes, from the
// user as read, what the change needs (hashes, checks against them); apply
// writes it in the transaction, on the locked row, if the user is still
// the version prepare saw. Otherwise it starts again, three times at most.
func updateHashed[T any](ctx context.Context, s *Service, idOrLogin string, prepare func(u *User) (T, error), apply func(tx Tx, u *User, p T) error) error {
	for attempt := 0; attempt < 3; attempt++ {
		pre, err := s.Store.User(ctx, idOrLogin)
		if err != nil {
			return err
		}
		p, err := prepare(pre)
		if err != nil {
			return err
		}
		changed := false
		err = s.Store.Update(ctx, func(tx Tx) error {
			changed = false
			u, err := tx.UserForUpdate(pre.ID)
			if err != nil {
				return err
			}
			if u.Version != pre.Version {
				changed = true
				return errUserChanged
			}
			return apply(tx, u, p)
		})
		if !changed {
			return err
		}
	}
	return errUserChanged
}

var errUserChanged = &errs.Error{Kind: errs.Conflict, Msg: "The user was changed by another request; retry."}

func trimHistory(h []string, n int) []string {
	if n <= 0 {
		return nil
	}
	if len(h) > n {
		h = h[:n]
	}
	return h
}

var lifecycleEvents = map[Operation][2]string{
	OpActivate:       {"user.lifecycle.activate", "Activate Okta user"},
	OpReactivate:     {"user.lifecycle.reactivate", "Reactivate Okta user"},
	OpDeactivate:     {"user.lifecycle.deactivate", "Deactivate Okta user"},
	OpSuspend:        {"user.lifecycle.suspend", "Suspend Okta user"},
	OpUnsuspend:      {"user.lifecycle.unsuspend", "Unsuspend Okta user"},
	OpUnlock:         {"user.account.unlock", "Unlock user account"},
	OpExpirePassword: {"user.account.expire_password", "Expire user password"},
	OpResetPassword:  {"user.account.reset_password", "Reset user password"},
}

// Transition applies a lifecycle operation.
func (s *Service) Transition(ctx context.Context, idOrLogin string, op Operation) (*User, error) {
	return s.TransitionWith(ctx, idOrLogin, op, nil)
}

// TransitionWith applies a lifecycle operation and then calls also, when
// not nil, in the same transaction with the changed user: what the change
// causes elsewhere (an email job) commits with it or not at all.
func (s *Service) TransitionWith(ctx context.Context, idOrLogin string, op Operation, also func(tx Tx, u *User) error) (*User, error) {
	var out *User
	err := s.Store.Update(ctx, func(tx Tx) error {
		u, err := tx.UserForUpdate(idOrLogin)
		if err != nil {
			return err
		}
		before := *u
		next, err := Next(u.Status, op, u.Credentials.HasPassword() || u.Credentials.Provider == "FEDERATION")
		if err != nil {
			return err
		}
		now := s.now()
		if next != u.Status {
			u.StatusChanged = &now
		}
		u.Status = next
		u.LastUpdated = now
		switch op {
		case OpActivate:
			u.Activated = &now
		case OpUnlock, OpUnsuspend:
			u.FailedLogins = 0
		case OpDeactivate:
			u.FailedLogins = 0
		}
		if err := tx.UpdateUser(u); err != nil {
			return err
		}
		ev := lifecycleEvents[op]
		if err := tx.Append(s.Events.New(ctx, ev[0], ev[1], audit.Success, audit.UserTarget(u.ID, u.Login(), u.DisplayName()))); err != nil {
			return err
		}
		if err := s.hooks(ctx, tx, &before, u); err != nil {
			return err
		}
		if also != nil {
			if err := also(tx, u); err != nil {
				return err
			}
		}
		out = u
		return nil
	})
	return out, err
}

// Delete deletes a user the way Okta does: a user not yet DEPROVISIONED is
// deactivated; a DEPROVISIONED user is removed. It reports whether the
// user was removed.
func (s *Service) Delete(ctx context.Context, idOrLogin string) (removed bool, err error) {
	err = s.Store.Update(ctx, func(tx Tx) error {
		u, err := tx.UserForUpdate(idOrLogin)
		if err != nil {
			return err
		}
		target := audit.UserTarget(u.ID, u.Login(), u.DisplayName())
		if u.Status != Deprovisioned {
			before := *u
			now := s.now()
			u.Status, u.StatusChanged, u.LastUpdated = Deprovisioned, &now, now
			if err := tx.UpdateUser(u); err != nil {
				return err
			}
			if err := tx.Append(s.Events.New(ctx, "user.lifecycle.deactivate", "Deactivate Okta user", audit.Success, target)); err != nil {
				return err
			}
			return s.hooks(ctx, tx, &before, u)
		}
		if err := s.hooks(ctx, tx, u, nil); err != nil {
			return err
		}
		if err := tx.DeleteUser(u.ID); err != nil {
			return err
		}
		removed = true
		return tx.Append(s.Events.New(ctx, "user.lifecycle.delete.completed", "Delete Okta user completed", audit.Success, target))
	})
	return removed, err
}

// CreateGroup creates an OKTA_GROUP.
func (s *Service) CreateGroup(ctx context.Context, name, description string) (*Group, error) {
	if err := validateGroup(name, description); err != nil {
		return nil, err
	}
	var out *Group
	err := s.Store.Update(ctx, func(tx Tx) error {
		now := s.now()
		if err := groupNameFree(tx, name, ""); err != nil {
			return err
		}
		g := &Group{ID: s.IDs.New(ids.Group), Type: "OKTA_GROUP", Name: name, Description: description, Created: now, LastUpdated: now, LastMembershipUpdated: now}
		if err := tx.InsertGroup(g); err != nil {
			return err
		}
		out = g
		return tx.Append(s.Events.New(ctx, "group.lifecycle.create", "Create Okta group", audit.Success, audit.GroupTarget(g.ID, g.Name)))
	})
	return out, err
}

// groupNameFree refuses a group name another group has (in any case), as
// Okta does for every group: 400 E0000001 beside the name.
func groupNameFree(tx Tx, name, exceptID string) error {
	taken, err := tx.LockGroupName(name, exceptID)
	if err != nil {
		return err
	}
	if taken {
		return errs.InvalidFields("Api validation failed: name",
			errs.Field("name", "name: An object with this field already exists in the current organization"))
	}
	return nil
}

func validateGroup(name, description string) error {
	var fe []errs.FieldError
	if strings.TrimSpace(name) == "" {
		fe = append(fe, errs.Field("name", "name: The field cannot be left blank"))
	} else if len(name) > 255 {
		fe = append(fe, errs.Field("name", "name: must be at most 255 characters"))
	}
	if len(description) > 1024 {
		fe = append(fe, errs.Field("description", "description: must be at most 1024 characters"))
	}
	for _, f := range [][2]string{{"name", name}, {"description", description}} {
		if strings.ContainsRune(f[1], 0) {
			fe = append(fe, errs.Field(f[0], nulMessage, f[0]))
		}
	}
	if fe != nil {
		return errs.InvalidFields("Api validation failed: group", fe...)
	}
	return nil
}

// UpdateGroup replaces a group's profile.
func (s *Service) UpdateGroup(ctx context.Context, id, name, description string) (*Group, error) {
	if err := validateGroup(name, description); err != nil {
		return nil, err
	}
	var out *Group
	err := s.Store.Update(ctx, func(tx Tx) error {
		g, err := tx.GroupForUpdate(id)
		if err != nil {
			return err
		}
		if !strings.EqualFold(g.Name, name) {
			if err := groupNameFree(tx, name, g.ID); err != nil {
				return err
			}
		}
		g.Name, g.Description, g.LastUpdated = name, description, s.now()
		if err := tx.UpdateGroup(g); err != nil {
			return err
		}
		out = g
		return tx.Append(s.Events.New(ctx, "group.profile.update", "Update group profile", audit.Success, audit.GroupTarget(g.ID, g.Name)))
	})
	return out, err
}

// DeleteGroup removes a group and its memberships.
func (s *Service) DeleteGroup(ctx context.Context, id string) error {
	return s.Store.Update(ctx, func(tx Tx) error {
		g, err := tx.GroupForUpdate(id)
		if err != nil {
			return err
		}
		for _, h := range s.OnGroupDelete {
			if err := h(ctx, tx, g); err != nil {
				return err
			}
		}
		if err := tx.DeleteGroup(g.ID); err != nil {
			return err
		}
		return tx.Append(s.Events.New(ctx, "group.lifecycle.delete", "Delete Okta group", audit.Success, audit.GroupTarget(g.ID, g.Name)))
	})
}

// AddMember adds a user to a group; adding an existing member is a no-op.
func (s *Service) AddMember(ctx context.Context, groupID, userID string) error {
	return s.Store.Update(ctx, func(tx Tx) error {
		u, err := tx.UserForUpdate(userID)
		if err != nil {
			return err
		}
		return s.manualAdd(ctx, tx, groupID, u, s.now())
	})
}

// manualAdd adds u to a group at an administrator's request and tells the
// membership hooks.
func (s *Service) manualAdd(ctx context.Context, tx Tx, groupID string, u *User, now time.Time) error {
	g, _, err := s.addMember(ctx, tx, groupID, u, now)
	if err != nil {
		return err
	}
	for _, h := range s.OnMembership {
		if err := h(ctx, tx, g, u, true); err != nil {
			return err
		}
	}
	return nil
}

// AddMemberIn adds u (read with tx.UserForUpdate) to a group inside tx,
// as AddMember does (the membership row, lastMembershipUpdated, the
// group.user_membership.add event and the change hooks) but without the
// membership hooks: the path of group rules. It reports whether u was
// added (false when u was a member already).
func (s *Service) AddMemberIn(ctx context.Context, tx Tx, groupID string, u *User) (bool, error) {
	_, added, err := s.addMember(ctx, tx, groupID, u, s.now())
	return added, err
}

func (s *Service) addMember(ctx context.Context, tx Tx, groupID string, u *User, now time.Time) (*Group, bool, error) {
	g, err := tx.GroupForUpdate(groupID)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return nil, false, errs.InvalidFields("Api validation failed: groupIds", errs.Field("groupIds", "Group %s does not exist.", groupID))
		}
		return nil, false, err
	}
	added, err := tx.AddMember(g.ID, u.ID, now)
	if err != nil || !added {
		return g, false, err
	}
	g.LastMembershipUpdated = now
	if err := tx.UpdateGroup(g); err != nil {
		return nil, false, err
	}
	if err := tx.Append(s.Events.New(ctx, "group.user_membership.add", "Add user to group membership", audit.Success,
		audit.UserTarget(u.ID, u.Login(), u.DisplayName()), audit.GroupTarget(g.ID, g.Name))); err != nil {
		return nil, false, err
	}
	return g, true, s.hooks(ctx, tx, u, u)
}

// RemoveMember removes a user from a group.
func (s *Service) RemoveMember(ctx context.Context, groupID, userID string) error {
	return s.Store.Update(ctx, func(tx Tx) error {
		u, err := tx.UserForUpdate(userID)
		if err != nil {
			return err
		}
		g, removed, err := s.removeMember(ctx, tx, groupID, u)
		if err != nil || !removed {
			return err
		}
		for _, h := range s.OnMembership {
			if err := h(ctx, tx, g, u, false); err != nil {
				return err
			}
		}
		return nil
	})
}

// RemoveMemberIn removes u from a group inside tx, as RemoveMember does
// but without the membership hooks (the path of group rules). It reports
// whether u was a member.
func (s *Service) RemoveMemberIn(ctx context.Context, tx Tx, groupID string, u *User) (bool, error) {
	_, removed, err := s.removeMember(ctx, tx, groupID, u)
	return removed, err
}

func (s *Service) removeMember(ctx context.Context, tx Tx, groupID string, u *User) (*Group, bool, error) {
	g, err := tx.GroupForUpdate(groupID)
	if err != nil {
		return nil, false, err
	}
	now := s.now()
	removed, err := tx.RemoveMember(g.ID, u.ID, now)
	if err != nil || !removed {
		return g, false, err
	}
	g.LastMembershipUpdated = now
	if err := tx.UpdateGroup(g); err != nil {
		return nil, false, err
	}
	if err := tx.Append(s.Events.New(ctx, "group.user_membership.remove", "Remove user from group membership", audit.Success,
		audit.UserTarget(u.ID, u.Login(), u.DisplayName()), audit.GroupTarget(g.ID, g.Name))); err != nil {
		return nil, false, err
	}
	return g, true, s.hooks(ctx, tx, u, u)
}

// SaveSchema applies changes to the custom attributes: definitions to add
// or replace, and names to remove.
func (s *Service) SaveSchema(ctx context.Context, set []Attribute, remove []string) (*Schema, error) {
	var fe []errs.FieldError
	for _, a := range set {
		fe = append(fe, ValidateAttribute(a)...)
	}
	if fe != nil {
		return nil, errs.InvalidFields("Api validation failed: schema", fe...)
	}
	var out *Schema
	err := s.Store.Update(ctx, func(tx Tx) error {
		sc, err := tx.Schema()
		if err != nil {
			return err
		}
		next := &Schema{}
		drop := map[string]bool{}
		for _, r := range remove {
			drop[r] = true
		}
		replaced := map[string]Attribute{}
		for _, a := range set {
			replaced[a.Name] = a
		}
		for _, a := range sc.Custom {
			if drop[a.Name] {
				continue
			}
			if r, ok := replaced[a.Name]; ok {
				next.Custom = append(next.Custom, r)
				delete(replaced, a.Name)
				continue
			}
			next.Custom = append(next.Custom, a)
		}
		for _, a := range set {
			if _, ok := replaced[a.Name]; ok {
				next.Custom = append(next.Custom, a)
			}
		}
		if err := tx.SaveSchema(next); err != nil {
			return err
		}
		out = next
		return tx.Append(s.Events.New(ctx, "system.schema.user.update", "Update user profile schema", audit.Success))
	})
	return out, err
}

// ErrBadCredentials is returned for a failed sign-in; it never says
// whether the user exists.
var ErrBadCredentials = errors.New("directory: bad credentials")

// ExpireWithTempPassword gives a person a random temporary password that
// meets the policy and expires it (Okta's expire_password with
// tempPassword=true): at their next sign-in, with the temporary password,
// they must choose a new one. It returns the temporary password, which is
// stored only as a hash.
func (s *Service) ExpireWithTempPassword(ctx context.Context, idOrLogin string) (*User, string, error) {
	pol, err := s.policy(ctx)
	if err != nil {
		return nil, "", err
	}
	type prepared struct{ temp, hash string }
	var out *User
	var temp string
	prepare := func(u *User) (prepared, error) {
		if _, err := Next(u.Status, OpExpirePassword, true); err != nil {
			return prepared{}, err
		}
		subj := credential.PolicySubject{Login: u.Login(), FirstName: u.Profile.String("firstName"), LastName: u.Profile.String("lastName")}
		var t string
		for i := 0; ; i++ {
			t = credential.TemporaryPassword(pol)
			err := pol.Check(ctx, s.Hasher, t, subj, passwordHistory(u))
			if err == nil {
				break
			}
			if i == 10 {
				return prepared{}, err
			}
		}
		h, err := s.Hasher.Hash(ctx, t)
		return prepared{t, h}, err
	}
	err = updateHashed(ctx, s, idOrLogin, prepare, func(tx Tx, u *User, p prepared) error {
		before := *u
		now := s.now()
		if u.Credentials.HasPassword() {
			u.Credentials.PasswordHistory = trimHistory(passwordHistory(u), pol.HistoryCount)
		}
		u.Credentials.PasswordHash = p.hash
		u.PasswordChanged, u.LastUpdated = &now, now
		if u.Status != PasswordExpired {
			u.Status, u.StatusChanged = PasswordExpired, &now
		}
		if err := tx.UpdateUser(u); err != nil {
			return err
		}
		target := audit.UserTarget(u.ID, u.Login(), u.DisplayName())
		if err := tx.Append(s.Events.New(ctx, "user.account.reset_password", "Reset user password (temporary password)", audit.Success, target)); err != nil {
			return err
		}
		if err := tx.Append(s.Events.New(ctx, "user.account.expire_password", "Expire user password", audit.Success, target)); err != nil {
			return err
		}
		if err := s.hooks(ctx, tx, &before, u); err != nil {
			return err
		}
		out, temp = u, p.temp
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	return out, temp, nil
}

// passwordHistory is the current hash and the previous ones, newest first.
func passwordHistory(u *User) []string {
	if !u.Credentials.HasPassword() {
		return nil
	}
	return append([]string{u.Credentials.PasswordHash}, u.Credentials.PasswordHistory...)
}
