package catalog

import (
	"context"
	"fmt"
	"regexp"
	"unicode"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/expr"
)

// App user statuses and sync state used by Gatehouse (no provisioning to
// the app itself yet).
const (
	AppUserActive     = "ACTIVE"
	SyncStateDisabled = "DISABLED"
)

// Limits on assignments.
const (
	MaxUserNameLen       = 256
	MaxProfileProperties = 100
	MaxProfileString     = 4096
	MaxProfileArray      = 100
)

var profileKey = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,99}$`)

// checkProfile accepts flat profiles of strings, numbers, booleans, nulls
// and arrays of those.
func checkProfile(profile map[string]any) []errs.FieldError {
	var p problems
	if len(profile) > MaxProfileProperties {
		p.add("profile", "at most %d properties", MaxProfileProperties)
		return p
	}
	scalar := func(f string, v any) {
		switch x := v.(type) {
		case nil, bool, float64, int, int64:
		case string:
			if len(x) > MaxProfileString {
				p.add(f, "must be at most %d bytes", MaxProfileString)
			}
		default:
			p.add(f, "must be a string, number, boolean or null")
		}
	}
	for k, v := range profile {
		f := "profile." + k
		if !profileKey.MatchString(k) {
			p.add("profile", "%q is not a valid property name", k)
			continue
		}
		if arr, ok := v.([]any); ok {
			if len(arr) > MaxProfileArray {
				p.add(f, "at most %d values", MaxProfileArray)
				continue
			}
			for i, e := range arr {
				if _, nested := e.([]any); nested {
					p.add(fmt.Sprintf("%s[%d]", f, i), "arrays cannot be nested")
					continue
				}
				scalar(fmt.Sprintf("%s[%d]", f, i), e)
			}
			continue
		}
		scalar(f, v)
	}
	return p
}

func checkUserName(name string) []errs.FieldError {
	var p problems
	switch {
	case name == "":
		p.add("credentials.userName", "The field cannot be left blank")
	case utf8.RuneCountInString(name) > MaxUserNameLen:
		p.add("credentials.userName", "must be at most %d characters", MaxUserNameLen)
	case !utf8.ValidString(name) || func() bool {
		for _, r := range name {
			if unicode.IsControl(r) {
				return true
			}
		}
		return false
	}():
		p.add("credentials.userName", "must not contain control characters")
	}
	return p
}

// prepareProfile lets the app's profile validator read what it needs
// before the assignment's transaction (see ProfilePreparer).
func (s *Service) prepareProfile(ctx context.Context, appID string, profile map[string]any) (context.Context, error) {
	a, err := s.Store.App(ctx, appID)
	if err != nil {
		return ctx, nil // the transaction reports a missing app
	}
	if p, ok := s.ProfileValidators[a.Name].(ProfilePreparer); ok {
		return p.PrepareProfileValidation(ctx, a, profile)
	}
	return ctx, nil
}

func (s *Service) validateProfile(ctx context.Context, a *App, scope Scope, profile map[string]any) error {
	if fe := checkProfile(profile); len(fe) > 0 {
		return errs.InvalidFields("Api validation failed: profile", fe...)
	}
	if v := s.ProfileValidators[a.Name]; v != nil {
		return v.ValidateAssignmentProfile(ctx, a, scope, profile)
	}
	return nil
}

// UserEnv is the user part of an expression environment: the profile with
// the internal properties id and status.
func UserEnv(u *directory.User) map[string]any {
	m := make(map[string]any, len(u.Profile)+2)
	for k, v := range u.Profile {
		m[k] = v
	}
	m["id"] = u.ID
	m["status"] = string(u.Status)
	return m
}

// UserName evaluates the app's userNameTemplate for a user; the login when
// the template is NONE or gives nothing.
func (s *Service) UserName(a *App, u *directory.User, appProfile map[string]any) string {
	t := a.Credentials.UserNameTemplate
	if t.Type == UserNameNone || t.Template == "" {
		return u.Login()
	}
	prog, err := s.Expr.Compile(t.Template)
	if err != nil {
		return u.Login()
	}
	v, err := prog.String(expr.Env{User: UserEnv(u), AppUser: appProfile, App: a.Settings.App})
	if err != nil || v == "" {
		return u.Login()
	}
	return v
}

func userTarget(u *directory.User) audit.Target {
	return audit.UserTarget(u.ID, u.Login(), u.DisplayName())
}

// AssignUserInput is a direct assignment: its username (nil keeps the
// current one or computes it from the template) and profile (nil keeps
// the current one).
type AssignUserInput struct {
	UserName *string
	Profile  map[string]any
}

// AssignUser assigns a user to an app directly, or updates the direct
// assignment that exists. It returns the effective assignment.
func (s *Service) AssignUser(ctx context.Context, appID, userID string, in AssignUserInput) (*Assignment, error) {
	return s.putUser(ctx, appID, userID, in, false)
}

// UpdateAppUser changes a user's assignment (Okta's POST
// /apps/{id}/users/{userId}). A user who has the app only through a group
// gets a direct assignment; a user without the app is NotFound.
func (s *Service) UpdateAppUser(ctx context.Context, appID, userID string, in AssignUserInput) (*Assignment, error) {
	return s.putUser(ctx, appID, userID, in, true)
}

func notAssigned(userID string) error {
	return errs.NotFoundf("Not found: Resource not found: %s (AppUser)", userID)
}

func (s *Service) putUser(ctx context.Context, appID, userID string, in AssignUserInput, mustHave bool) (*Assignment, error) {
	if in.UserName != nil {
		if fe := checkUserName(*in.UserName); len(fe) > 0 {
			return nil, errs.InvalidFields("Api validation failed: credentials.userName", fe...)
		}
	}
	ctx, err := s.prepareProfile(ctx, appID, in.Profile)
	if err != nil {
		return nil, err
	}
	var out *Assignment
	err = s.Store.Update(ctx, func(tx Tx) error {
		a, err := tx.AppForUpdate(appID)
		if err != nil {
			return err
		}
		u, err := tx.UserForUpdate(userID)
		if err != nil {
			return err
		}
		cur, err := tx.AppUserForUpdate(a.ID, u.ID)
		if err != nil && !errs.Is(err, errs.NotFound) {
			return err
		}
		if cur == nil && mustHave {
			grants, err := s.Store.GroupGrants(ctx, a.ID, []string{u.ID})
			if err != nil {
				return err
			}
			if len(grants) == 0 {
				return notAssigned(u.ID)
			}
		}
		now := s.now()
		next := &Assignment{AppID: a.ID, UserID: u.ID, Scope: ScopeUser, Status: AppUserActive, SyncState: SyncStateDisabled,
			Profile: map[string]any{}, Created: now, LastUpdated: now, StatusChanged: now}
		var before *Assignment
		if cur != nil {
			c := *cur
			before = &c
			next = cur
			next.LastUpdated = now
		}
		if in.Profile != nil {
			next.Profile = in.Profile
		}
		if err := s.validateProfile(ctx, a, ScopeUser, next.Profile); err != nil {
			return err
		}
		if in.UserName != nil {
			next.UserName, next.UserNameSet = *in.UserName, true
		}
		if err := tx.PutAppUser(next); err != nil {
			return err
		}
		oldName := ""
		if before != nil {
			oldName = s.effectiveName(a, u, before)
		}
		newName := s.effectiveName(a, u, next)
		targets := []audit.Target{userTarget(u), appTarget(a)}
		kind := UserAssigned
		if before == nil {
			if err := tx.Append(s.Events.New(ctx, "application.user_membership.add", "Add user to application membership", audit.Success, targets...)); err != nil {
				return err
			}
		} else {
			kind = UserAssignmentUpdated
			if err := tx.Append(s.Events.New(ctx, "application.user_membership.update", "Update user's application membership", audit.Success, targets...)); err != nil {
				return err
			}
			if oldName != newName {
				if err := tx.Append(s.Events.New(ctx, "application.user_membership.change_username", "Change user's application username", audit.Success, targets...)); err != nil {
					return err
				}
			}
		}
		if err := s.hooks(ctx, tx, Change{Kind: kind, App: a, UserID: u.ID, UserBefore: before, UserAfter: next}); err != nil {
			return err
		}
		eff := *next
		eff.UserName = newName
		out = &eff
		return nil
	})
	return out, err
}

func (s *Service) effectiveName(a *App, u *directory.User, as *Assignment) string {
	if as.UserNameSet && as.UserName != "" {
		return as.UserName
	}
	return s.UserName(a, u, as.Profile)
}

// UnassignUser removes a user's direct assignment. A user who has the app
// only through a group cannot be unassigned (Okta's E0000046).
func (s *Service) UnassignUser(ctx context.Context, appID, userID string) error {
	return s.Store.Update(ctx, func(tx Tx) error {
		a, err := tx.AppForUpdate(appID)
		if err != nil {
			return err
		}
		u, err := tx.UserForUpdate(userID)
		if err != nil {
			return err
		}
		cur, err := tx.AppUserForUpdate(a.ID, u.ID)
		if errs.Is(err, errs.NotFound) {
			grants, gerr := s.Store.GroupGrants(ctx, a.ID, []string{u.ID})
			if gerr != nil {
				return gerr
			}
			if len(grants) > 0 {
				return &errs.Error{Kind: errs.Forbidden, Code: "E0000046", Msg: "Deactivate application for user forbidden.",
					Fields: []errs.FieldError{{Field: "scope", Message: "The user has this app through a group; remove the group assignment or the group membership."}}}
			}
			return notAssigned(u.ID)
		}
		if err != nil {
			return err
		}
		if _, err := tx.DeleteAppUser(a.ID, u.ID); err != nil {
			return err
		}
		if err := tx.Append(s.Events.New(ctx, "application.user_membership.remove", "Remove user from application membership", audit.Success, userTarget(u), appTarget(a))); err != nil {
			return err
		}
		return s.hooks(ctx, tx, Change{Kind: UserUnassigned, App: a, UserID: u.ID, UserBefore: cur})
	})
}

// effective combines a user's direct assignment and group grants (ordered
// by priority) into the assignment that applies, or nil.
func (s *Service) effective(a *App, u *directory.User, direct *Assignment, grants []*GroupGrant) *Assignment {
	if direct != nil {
		e := *direct
		e.Scope = ScopeUser
		e.UserName = s.effectiveName(a, u, direct)
		return &e
	}
	if len(grants) == 0 {
		return nil
	}
	g := grants[0]
	e := &Assignment{AppID: a.ID, UserID: u.ID, Scope: ScopeGroup, GroupID: g.GroupID, Profile: g.Profile,
		Status: AppUserActive, SyncState: SyncStateDisabled, Created: g.LastUpdated, LastUpdated: g.LastUpdated, StatusChanged: g.LastUpdated}
	if e.Profile == nil {
		e.Profile = map[string]any{}
	}
	e.UserName = s.UserName(a, u, e.Profile)
	return e
}

// Assignment returns the assignment that applies when a user signs in to
// an app: the direct assignment, else the highest-priority (lowest number)
// group assignment among the user's groups. NotFound when there is none.
func (s *Service) Assignment(ctx context.Context, appID, userID string) (*Assignment, error) {
	a, err := s.Store.App(ctx, appID)
	if err != nil {
		return nil, err
	}
	u, err := s.Directory.User(ctx, userID)
	if err != nil {
		return nil, err
	}
	return s.AssignmentOf(ctx, a, u)
}

// AssignmentOf is Assignment for an app and a user the caller has just
// read (the sign-on path), without reading them again.
func (s *Service) AssignmentOf(ctx context.Context, a *App, u *directory.User) (*Assignment, error) {
	direct, err := s.Store.UserAssignments(ctx, a.ID, []string{u.ID})
	if err != nil {
		return nil, err
	}
	var d *Assignment
	var grants []*GroupGrant
	if len(direct) > 0 {
		d = direct[0]
	} else if grants, err = s.Store.GroupGrants(ctx, a.ID, []string{u.ID}); err != nil {
		return nil, err
	}
	e := s.effective(a, u, d, grants)
	if e == nil {
		return nil, notAssigned(u.ID)
	}
	return e, nil
}

// AppUsers pages the effective assignments of an app's users (direct ones
// with scope USER, the others with scope GROUP), in user id order.
func (s *Service) AppUsers(ctx context.Context, q AppUserQuery) ([]*Assignment, error) {
	a, err := s.Store.App(ctx, q.AppID)
	if err != nil {
		return nil, err
	}
	q.AppID = a.ID
	users, err := s.Store.AppUsers(ctx, q)
	if err != nil {
		return nil, err
	}
	idsList := make([]string, len(users))
	for i, u := range users {
		idsList[i] = u.ID
	}
	direct, err := s.Store.UserAssignments(ctx, a.ID, idsList)
	if err != nil {
		return nil, err
	}
	grants, err := s.Store.GroupGrants(ctx, a.ID, idsList)
	if err != nil {
		return nil, err
	}
	byUser := map[string]*Assignment{}
	for _, d := range direct {
		byUser[d.UserID] = d
	}
	grantsBy := map[string][]*GroupGrant{}
	for _, g := range grants {
		grantsBy[g.UserID] = append(grantsBy[g.UserID], g)
	}
	out := make([]*Assignment, 0, len(users))
	for _, u := range users {
		if e := s.effective(a, u, byUser[u.ID], grantsBy[u.ID]); e != nil {
			out = append(out, e)
		}
	}
	return out, nil
}

// AssignGroupInput is a group assignment; a nil Priority keeps the current
// one or, for a new assignment, comes after every other group.
type AssignGroupInput struct {
	Priority *int
	Profile  map[string]any
}

// AssignGroup assigns an app to a group, or replaces the group's assignment.
func (s *Service) AssignGroup(ctx context.Context, appID, groupID string, in AssignGroupInput) (*GroupAssignment, error) {
	if in.Priority != nil && (*in.Priority < 0 || *in.Priority > 1_000_000) {
		return nil, errs.InvalidFields("Api validation failed: priority", errs.Field("priority", "priority: must be between 0 and 1000000"))
	}
	ctx, err := s.prepareProfile(ctx, appID, in.Profile)
	if err != nil {
		return nil, err
	}
	var out *GroupAssignment
	err = s.Store.Update(ctx, func(tx Tx) error {
		a, err := tx.AppForUpdate(appID)
		if err != nil {
			return err
		}
		g, err := tx.GroupForUpdate(groupID)
		if err != nil {
			return err
		}
		cur, err := tx.AppGroupForUpdate(a.ID, g.ID)
		if err != nil && !errs.Is(err, errs.NotFound) {
			return err
		}
		next := &GroupAssignment{AppID: a.ID, GroupID: g.ID, Profile: map[string]any{}, LastUpdated: s.now()}
		var before *GroupAssignment
		if cur != nil {
			c := *cur
			before = &c
			next.Priority = cur.Priority
			next.Profile = cur.Profile
		} else {
			max, ok, err := tx.MaxAppGroupPriority(a.ID)
			if err != nil {
				return err
			}
			if ok {
				next.Priority = max + 1
			}
		}
		if in.Priority != nil {
			next.Priority = *in.Priority
		}
		if in.Profile != nil {
			next.Profile = in.Profile
		}
		if err := s.validateProfile(ctx, a, ScopeGroup, next.Profile); err != nil {
			return err
		}
		if err := tx.PutAppGroup(next); err != nil {
			return err
		}
		targets := []audit.Target{audit.GroupTarget(g.ID, g.Name), appTarget(a)}
		typ, msg, kind := "application.group_membership.add", "Add assigned application to group", GroupAssigned
		if before != nil {
			typ, msg, kind = "application.group_membership.update", "Update assigned application of group", GroupAssignmentUpdated
		}
		if err := tx.Append(s.Events.New(ctx, typ, msg, audit.Success, targets...)); err != nil {
			return err
		}
		if err := s.hooks(ctx, tx, Change{Kind: kind, App: a, GroupID: g.ID, GroupBefore: before, GroupAfter: next}); err != nil {
			return err
		}
		out = next
		return nil
	})
	return out, err
}

// UnassignGroup removes a group's assignment.
func (s *Service) UnassignGroup(ctx context.Context, appID, groupID string) error {
	return s.Store.Update(ctx, func(tx Tx) error {
		a, err := tx.AppForUpdate(appID)
		if err != nil {
			return err
		}
		g, err := tx.GroupForUpdate(groupID)
		if err != nil {
			return err
		}
		cur, err := tx.AppGroupForUpdate(a.ID, g.ID)
		if err != nil {
			return err
		}
		if _, err := tx.DeleteAppGroup(a.ID, g.ID); err != nil {
			return err
		}
		if err := tx.Append(s.Events.New(ctx, "application.group_membership.remove", "Remove assigned application from group", audit.Success,
			audit.GroupTarget(g.ID, g.Name), appTarget(a))); err != nil {
			return err
		}
		return s.hooks(ctx, tx, Change{Kind: GroupUnassigned, App: a, GroupID: g.ID, GroupBefore: cur})
	})
}

// AppsForUser lists the ACTIVE apps a user (by id) has, directly or
// through a group, in id order (the end-user dashboard). It reads only
// committed assignments and does not check that the user exists (an
// unknown id has no apps), so directory hooks may call it for a user being
// created.
func (s *Service) AppsForUser(ctx context.Context, userID string) ([]*App, error) {
	var out []*App
	after := ""
	for {
		page, err := s.Store.Apps(ctx, AppQuery{UserID: userID, Status: Active, After: after, Limit: 200})
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if len(page) < 200 {
			return out, nil
		}
		after = page[len(page)-1].ID
	}
}

// GroupAppCounts counts the apps each of the given groups is assigned to,
// for a whole page of groups in one read of the store (the groups API's
// expand=stats).
func (s *Service) GroupAppCounts(ctx context.Context, groupIDs []string) (map[string]int, error) {
	return s.Store.GroupAppCounts(ctx, groupIDs)
}
