package grouprule

import (
	"context"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/expr"
	"github.com/gatehouse/gatehouse/internal/ids"
)

// Members changes memberships inside a transaction the way the directory
// does for an administrator (directory.Service implements it).
type Members interface {
	AddMemberIn(ctx context.Context, tx directory.Tx, groupID string, u *directory.User) (bool, error)
	RemoveMemberIn(ctx context.Context, tx directory.Tx, groupID string, u *directory.User) (bool, error)
}

// People reads the directory (directory.Store implements it).
type People interface {
	User(ctx context.Context, idOrLogin string) (*directory.User, error)
	Users(ctx context.Context, q directory.UserQuery) ([]*directory.User, error)
	Group(ctx context.Context, id string) (*directory.Group, error)
}

// Service manages and applies group rules.
type Service struct {
	Store   Store
	Members Members
	People  People
	Expr    *expr.Engine
	IDs     *ids.Source
	Now     func() time.Time
	Events  audit.Builder
	// Batch is how many people one transaction of an activation or
	// removal pass handles at most (default 200).
	Batch int
	// BatchTime is how long one such transaction goes on before it
	// commits what it did so far (default 100 ms): it holds the
	// database's writer, which every sign-in and change waits for.
	BatchTime time.Duration
	// Wait bounds how long Activate waits for its pass over the directory
	// (default 20 seconds, under the server's write timeout); a longer
	// pass goes on in the background, durably (see Resume).
	Wait time.Duration
	// Log receives the errors of passes that go on in the background.
	Log *slog.Logger
}

// Input is a rule as an administrator writes it.
type Input struct {
	Name           string
	ExpressionType string // "" or ExpressionType
	Expression     string
	GroupIDs       []string
	ExcludeUserIDs []string
	// ExcludeGroupIDs is Okta's conditions.people.groups.exclude, which
	// Okta documents as not supported: it must be empty.
	ExcludeGroupIDs []string
}

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }

func (s *Service) batch() int {
	if s.Batch > 0 {
		return s.Batch
	}
	return 200
}

func (s *Service) batchTime() time.Duration {
	if s.BatchTime > 0 {
		return s.BatchTime
	}
	return 100 * time.Millisecond
}

// RuleTarget is a rule as the target of a system log event.
func RuleTarget(r *Rule) audit.Target {
	return audit.Target{ID: r.ID, Type: "GroupRule", AlternateID: r.Name, DisplayName: r.Name}
}

// ErrNotFound is Okta's answer for an unknown rule id.
func ErrNotFound(id string) error {
	return &errs.Error{Kind: errs.NotFound, Code: "E0000007", Msg: "Not found: Resource not found: " + id + " (GroupRule)"}
}

func notFound(id string, err error) error {
	if errs.Is(err, errs.NotFound) {
		return ErrNotFound(id)
	}
	return err
}

// Field names of the errors, as Okta's JSON names them.
const (
	FieldName       = "name"
	FieldExprType   = "conditions.expression.type"
	FieldExpression = "conditions.expression.value"
	FieldGroups     = "actions.assignUserToGroups.groupIds"
	FieldExclude    = "conditions.people.users.exclude"
	FieldGroupsExcl = "conditions.people.groups.exclude"
)

// validate checks in; it returns the field errors and the normalized
// input.
func (s *Service) validate(ctx context.Context, in Input) (Input, []errs.FieldError, error) {
	var fe []errs.FieldError
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Name == "":
		fe = append(fe, errs.Field(FieldName, "name: The field cannot be left blank"))
	case utf8.RuneCountInString(in.Name) > MaxName || strings.ContainsAny(in.Name, "\r\n\x00"):
		fe = append(fe, errs.Field(FieldName, "name: must be a single line of 1 to %d characters", MaxName))
	}
	if in.ExpressionType != "" && in.ExpressionType != ExpressionType {
		fe = append(fe, errs.Field(FieldExprType, "conditions.expression.type: must be %s", ExpressionType))
	}
	if strings.TrimSpace(in.Expression) == "" {
		fe = append(fe, errs.Field(FieldExpression, "conditions.expression.value: The field cannot be left blank"))
	} else if _, err := s.Expr.CompileCondition(in.Expression); err != nil {
		fe = append(fe, errs.Field(FieldExpression, "conditions.expression.value: %s", err.Error()))
	}
	if len(in.ExcludeGroupIDs) > 0 {
		fe = append(fe, errs.Field(FieldGroupsExcl, "conditions.people.groups.exclude: excluding groups is not supported (Okta documents it as not supported); exclude people instead"))
	}
	in.GroupIDs = dedupe(in.GroupIDs)
	switch {
	case len(in.GroupIDs) == 0:
		fe = append(fe, errs.Field(FieldGroups, "actions.assignUserToGroups.groupIds: name at least one group"))
	case len(in.GroupIDs) > MaxGroups:
		fe = append(fe, errs.Field(FieldGroups, "actions.assignUserToGroups.groupIds: at most %d groups", MaxGroups))
	default:
		for _, gid := range in.GroupIDs {
			g, err := s.People.Group(ctx, gid)
			if errs.Is(err, errs.NotFound) {
				fe = append(fe, errs.Field(FieldGroups, "actions.assignUserToGroups.groupIds: group %s does not exist", gid))
				continue
			}
			if err != nil {
				return in, nil, err
			}
			if g.Type != "OKTA_GROUP" {
				fe = append(fe, errs.Field(FieldGroups, "actions.assignUserToGroups.groupIds: group %s is not an OKTA_GROUP; rules assign only to Okta groups", gid))
			}
		}
	}
	in.ExcludeUserIDs = dedupe(in.ExcludeUserIDs)
	if len(in.ExcludeUserIDs) > MaxExcluded {
		fe = append(fe, errs.Field(FieldExclude, "conditions.people.users.exclude: at most %d people", MaxExcluded))
	} else {
		for _, uid := range in.ExcludeUserIDs {
			u, err := s.People.User(ctx, uid)
			if errs.Is(err, errs.NotFound) || (err == nil && u.ID != uid) {
				fe = append(fe, errs.Field(FieldExclude, "conditions.people.users.exclude: user %s does not exist", uid))
				continue
			}
			if err != nil {
				return in, nil, err
			}
		}
	}
	return in, fe, nil
}

// Check returns what Create would refuse in in, field by field, without
// creating anything (a form shows every problem at once).
func (s *Service) Check(ctx context.Context, in Input) ([]errs.FieldError, error) {
	_, fe, err := s.validate(ctx, in)
	return fe, err
}

func dedupe(ss []string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, v := range ss {
		v = strings.TrimSpace(v)
		if v == "" || seen[v] {
			continue
		}
		seen[v] = true
		out = append(out, v)
	}
	return out
}

func invalid(fe []errs.FieldError) error {
	return errs.InvalidFields("Api validation failed: groupRule", fe...)
}

// nameTaken turns the store's name conflict into Okta's validation error.
func nameTaken(err error) error {
	if errs.Is(err, errs.Conflict) {
		return invalid([]errs.FieldError{errs.Field(FieldName, "name: A group rule with this name already exists.")})
	}
	return err
}

// Create adds a rule, INACTIVE as Okta creates every rule.
func (s *Service) Create(ctx context.Context, in Input) (*Rule, error) {
	in, fe, err := s.validate(ctx, in)
	if err != nil {
		return nil, err
	}
	if fe != nil {
		return nil, invalid(fe)
	}
	now := s.now()
	r := &Rule{ID: s.IDs.NewOrdered(ids.Rule, now), Name: in.Name, Status: Inactive, Expression: in.Expression,
		GroupIDs: in.GroupIDs, ExcludeUserIDs: in.ExcludeUserIDs, Created: now, LastUpdated: now}
	err = s.Store.Update(ctx, func(tx Tx) error {
		if err := tx.InsertGroupRule(r); err != nil {
			return nameTaken(err)
		}
		return tx.Append(s.Events.New(ctx, EventCreate, "Create group rule", audit.Success, RuleTarget(r)))
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// Get reads a rule.
func (s *Service) Get(ctx context.Context, id string) (*Rule, error) {
	r, err := s.Store.Rule(ctx, id)
	return r, notFound(id, err)
}

// List lists rules.
func (s *Service) List(ctx context.Context, q Query) ([]*Rule, error) {
	return s.Store.Rules(ctx, q)
}

// Replace changes an INACTIVE rule's name, condition and exclusions, as
// Okta's PUT does. Its target groups cannot change (Okta: "You currently
// can't update the action section"): in.GroupIDs must name the same
// groups.
func (s *Service) Replace(ctx context.Context, id string, in Input) (*Rule, error) {
	cur, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if cur.Status != Inactive {
		return nil, errNotInactive()
	}
	in, fe, err := s.validate(ctx, in)
	if err != nil {
		return nil, err
	}
	if !sameSet(in.GroupIDs, cur.GroupIDs) {
		fe = append(fe, errs.Field(FieldGroups, "actions.assignUserToGroups.groupIds: the groups a rule assigns to cannot be changed; delete the rule and create another"))
	}
	if fe != nil {
		return nil, invalid(fe)
	}
	var out *Rule
	err = s.Store.Update(ctx, func(tx Tx) error {
		r, err := tx.GroupRuleForUpdate(id)
		if err != nil {
			return notFound(id, err)
		}
		if r.Status != Inactive {
			return errNotInactive()
		}
		r.Name, r.Expression, r.ExcludeUserIDs, r.LastUpdated = in.Name, in.Expression, in.ExcludeUserIDs, s.now()
		if err := tx.UpdateGroupRule(r); err != nil {
			return nameTaken(err)
		}
		out = r
		return tx.Append(s.Events.New(ctx, EventUpdate, "Update group rule", audit.Success, RuleTarget(r)))
	})
	return out, err
}

func errNotInactive() error {
	return &errs.Error{Kind: errs.Invalid, Code: "E0000001", Msg: "Api validation failed: groupRule. Only an INACTIVE rule can be updated; deactivate it first."}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]bool{}
	for _, v := range a {
		m[v] = true
	}
	for _, v := range b {
		if !m[v] {
			return false
		}
	}
	return true
}

// Activate makes a rule ACTIVE and applies it to every person it moves:
// matching people are added to its target groups. The pass runs in
// transactions of Batch people and records how far it got, so a pass
// interrupted by a crash is finished by Resume. Activate returns when the
// pass is done, or after Wait with the pass going on in the background.
// Activating an ACTIVE rule changes nothing; an INVALID rule cannot be
// activated.
func (s *Service) Activate(ctx context.Context, id string) error {
	started := false
	err := s.Store.Update(ctx, func(tx Tx) error {
		r, err := tx.GroupRuleForUpdate(id)
		if err != nil {
			return notFound(id, err)
		}
		switch r.Status {
		case Active:
			return nil
		case Invalid:
			return &errs.Error{Kind: errs.IllegalState, Code: "E0000038", Msg: "This operation is not allowed in the current status: an INVALID rule cannot be activated; delete it and create another."}
		}
		r.Status, r.Evaluating, r.EvalAfter, r.LastUpdated = Active, true, "", s.now()
		if err := tx.UpdateGroupRule(r); err != nil {
			return err
		}
		started = true
		return tx.Append(s.Events.New(ctx, EventActivate, "Activate group rule", audit.Success, RuleTarget(r)))
	})
	if err != nil || !started {
		return err
	}
	// The pass does not depend on the request: a client that goes away
	// does not stop it half-way.
	done := make(chan error, 1)
	go func() { done <- s.evaluate(context.WithoutCancel(ctx), id) }()
	wait := s.Wait
	if wait <= 0 {
		wait = 20 * time.Second
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
	case <-ctx.Done():
	}
	go func() {
		if err := <-done; err != nil && s.Log != nil {
			s.Log.Error("group rule activation pass", "rule", id, "err", err)
		}
	}()
	return nil
}

// Deactivate makes a rule INACTIVE. The memberships it made stay (Okta:
// deactivating a rule does not remove the people it added), and it stops
// applying to changes.
func (s *Service) Deactivate(ctx context.Context, id string) error {
	return s.Store.Update(ctx, func(tx Tx) error {
		r, err := tx.GroupRuleForUpdate(id)
		if err != nil {
			return notFound(id, err)
		}
		if r.Status != Active {
			return nil
		}
		r.Status, r.Evaluating, r.EvalAfter, r.LastUpdated = Inactive, false, "", s.now()
		if err := tx.UpdateGroupRule(r); err != nil {
			return err
		}
		return tx.Append(s.Events.New(ctx, EventDeactivated, "Group membership rule deactivated", audit.Success, RuleTarget(r)))
	})
}

// Delete removes a rule. With removeUsers, the memberships the rule
// manages are removed first (in transactions of Batch memberships; a
// membership another active rule also manages stays); without, they stay
// and become ordinary memberships (Okta: "Leave users in the group"). An
// ACTIVE rule is deactivated before its memberships are removed, so that
// it does not add them back meanwhile.
func (s *Service) Delete(ctx context.Context, id string, removeUsers bool) error {
	ctx = context.WithoutCancel(ctx) // not stopped half-way by a client that goes away
	r, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if removeUsers {
		if r.Status == Active {
			if err := s.Deactivate(ctx, id); err != nil {
				return err
			}
		}
		if err := s.removeManaged(ctx, id); err != nil {
			return err
		}
	}
	return s.Store.Update(ctx, func(tx Tx) error {
		r, err := tx.GroupRuleForUpdate(id)
		if err != nil {
			return notFound(id, err)
		}
		if err := tx.DeleteGroupRule(r.ID); err != nil {
			return err
		}
		return tx.Append(s.Events.New(ctx, EventDelete, "Delete group rule", audit.Success, RuleTarget(r)))
	})
}

// removeManaged removes, batch by batch, the memberships a rule manages
// and no other rule does.
func (s *Service) removeManaged(ctx context.Context, ruleID string) error {
	for {
		n, cut := 0, false
		err := s.Store.Update(ctx, func(tx Tx) error {
			ms, err := tx.ManagedByRule(ruleID, Managed{}, s.batch())
			if err != nil {
				return err
			}
			n, cut = len(ms), false
			start := time.Now()
			for i, m := range ms {
				if i > 0 && time.Since(start) >= s.batchTime() {
					cut = true // the rest in the next transaction
					break
				}
				if err := s.unmanage(ctx, tx, m); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil || !cut && n < s.batch() {
			return err
		}
	}
}

// unmanage forgets a rule's record of a membership and removes the
// membership when no other rule manages it.
func (s *Service) unmanage(ctx context.Context, tx Tx, m Managed) error {
	if _, err := tx.RemoveManaged(m); err != nil {
		return err
	}
	others, err := tx.ManagersOf(m.GroupID, m.UserID)
	if err != nil || len(others) > 0 {
		return err
	}
	u, err := tx.UserForUpdate(m.UserID)
	if errs.Is(err, errs.NotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = s.Members.RemoveMemberIn(ctx, tx, m.GroupID, u)
	if errs.Is(err, errs.NotFound) {
		return nil
	}
	return err
}
