package grouprule

import (
	"context"
	"reflect"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/expr"
)

// System log event types. Okta's event type catalog names the
// group.user_membership.rule.* types; it has none for creating, changing,
// activating or deleting a rule, which Gatehouse records as group.rule.*.
const (
	EventCreate       = "group.rule.create"
	EventUpdate       = "group.rule.update"
	EventActivate     = "group.rule.activate"
	EventDelete       = "group.rule.delete"
	EventDeactivated  = "group.user_membership.rule.deactivated"
	EventInvalidate   = "group.user_membership.rule.invalidate"
	EventAddExclusion = "group.user_membership.rule.add_exclusion"
	EventError        = "group.user_membership.rule.error"
	EventEvaluation   = "group.user_membership.rule.evaluation"
)

// evaluate runs (or resumes) the activation pass of a rule: every person
// after r.EvalAfter, in id order, Batch at a time, each batch in one
// transaction that also records how far the pass got; a batch that takes
// longer than BatchTime commits the people done so far and leaves the rest
// of its page to the next transaction.
func (s *Service) evaluate(ctx context.Context, id string) error {
	for {
		r, err := s.Store.Rule(ctx, id)
		if errs.Is(err, errs.NotFound) {
			return nil // deleted meanwhile: nothing left to apply
		}
		if err != nil {
			return err
		}
		if r.Status != Active || !r.Evaluating {
			return nil
		}
		from := r.EvalAfter
		page, err := s.People.Users(ctx, directory.UserQuery{After: from, Limit: s.batch()})
		if err != nil {
			return err
		}
		done := false
		err = s.Store.Update(ctx, func(tx Tx) error {
			r, err := tx.GroupRuleForUpdate(id)
			if errs.Is(err, errs.NotFound) {
				done = true
				return nil
			}
			if err != nil {
				return err
			}
			if r.Status != Active || !r.Evaluating {
				done = true
				return nil
			}
			if r.EvalAfter != from {
				return nil // another node applied this batch meanwhile: read on
			}
			prog, err := s.Expr.CompileCondition(r.Expression)
			if err != nil {
				return err // validated at save: the engine changed
			}
			todo, cut := page, false
			start := time.Now()
			for i, p := range page {
				if i > 0 && time.Since(start) >= s.batchTime() {
					todo, cut = page[:i], true // the rest in the next transaction
					break
				}
				u, err := tx.UserForUpdate(p.ID)
				if errs.Is(err, errs.NotFound) {
					continue // deleted since the page was read
				}
				if err != nil {
					return err
				}
				if !Applies(u.Status) {
					continue
				}
				if err := s.apply(ctx, tx, r, prog, u); err != nil {
					return err
				}
			}
			if len(todo) > 0 {
				r.EvalAfter = todo[len(todo)-1].ID
			}
			if !cut && len(page) < s.batch() {
				r.Evaluating, r.EvalAfter, done = false, "", true
			}
			if err := tx.UpdateGroupRule(r); err != nil {
				return err
			}
			if done {
				return tx.Append(s.Events.New(ctx, EventEvaluation, "Group membership rule evaluated for every person", audit.Success, RuleTarget(r)))
			}
			return nil
		})
		if err != nil || done {
			return err
		}
	}
}

// Resume finishes the activation passes that a stopped process left
// unfinished. Several nodes may resume the same pass: each batch is
// idempotent.
func (s *Service) Resume(ctx context.Context) error {
	rs, err := s.Store.Evaluating(ctx)
	if err != nil {
		return err
	}
	for _, r := range rs {
		if err := s.evaluate(ctx, r.ID); err != nil {
			return err
		}
	}
	return nil
}

// apply brings u's memberships in r's target groups in line with r:
// added when u matches (and is not excluded), the rule's own memberships
// removed when u does not. A condition that fails for u (a value of the
// wrong type) changes nothing and is logged.
func (s *Service) apply(ctx context.Context, tx Tx, r *Rule, prog *expr.Program, u *directory.User) error {
	groups, err := tx.UserGroupsIn(u.ID)
	if err != nil {
		return err
	}
	member := map[string]bool{}
	env := expr.Env{User: catalog.UserEnv(u)}
	for _, g := range groups {
		member[g.ID] = true
		env.Groups = append(env.Groups, g.Name)
		env.GroupIDs = append(env.GroupIDs, g.ID)
	}
	match := false
	if !r.Excludes(u.ID) {
		ok, err := prog.Bool(env)
		if err != nil {
			ev := s.Events.New(ctx, EventError, "Error evaluating group membership rule: "+err.Error(), audit.Failure,
				RuleTarget(r), audit.UserTarget(u.ID, u.Login(), u.DisplayName()))
			return tx.Append(ev)
		}
		match = ok
	}
	for _, gid := range r.GroupIDs {
		managers, err := tx.ManagersOf(gid, u.ID)
		if err != nil {
			return err
		}
		mine := contains(managers, r.ID)
		m := Managed{RuleID: r.ID, GroupID: gid, UserID: u.ID}
		switch {
		case match && !member[gid]:
			added, err := s.Members.AddMemberIn(ctx, tx, gid, u)
			if errs.Is(err, errs.Invalid) || errs.Is(err, errs.NotFound) {
				continue // the group is gone; its deletion invalidates the rule
			}
			if err != nil {
				return err
			}
			if added {
				if err := tx.AddManaged(m); err != nil {
					return err
				}
			}
		case match && !mine && len(managers) > 0:
			// Another rule's membership: this rule manages it too, so
			// that it stays while either matches.
			if err := tx.AddManaged(m); err != nil {
				return err
			}
		case !match && mine:
			if err := s.unmanage(ctx, tx, m); err != nil {
				return err
			}
		}
	}
	return nil
}

func contains(ss []string, v string) bool {
	for _, s := range ss {
		if s == v {
			return true
		}
	}
	return false
}

// OnUserChange is a directory.ChangeHook: when a person is created, or
// their profile or status changes, the active rules are applied to them.
// Membership changes (before and after the same) and changes that leave
// profile and status as they were (a password) apply nothing.
func (s *Service) OnUserChange(ctx context.Context, dtx directory.Tx, before, after *directory.User) error {
	if after == nil && before != nil {
		return s.forget(ctx, dtx, before)
	}
	if after == nil || before == after || !Applies(after.Status) {
		return nil
	}
	if before != nil && before.Status == after.Status && reflect.DeepEqual(before.Profile, after.Profile) {
		return nil
	}
	tx, ok := dtx.(Tx)
	if !ok {
		return errs.Wrap(errs.Internal, "Internal Server Error", errNoRuleTx)
	}
	rs, err := tx.GroupRulesByStatus(Active)
	if err != nil {
		return err
	}
	for _, r := range rs {
		prog, err := s.Expr.CompileCondition(r.Expression)
		if err != nil {
			return err
		}
		if err := s.apply(ctx, tx, r, prog, after); err != nil {
			return err
		}
	}
	return nil
}

// forget takes a person who is being deleted out of the rules'
// exclusions (their memberships and the rules' records of them go with
// the person's row).
func (s *Service) forget(ctx context.Context, dtx directory.Tx, u *directory.User) error {
	tx, ok := dtx.(Tx)
	if !ok {
		return errs.Wrap(errs.Internal, "Internal Server Error", errNoRuleTx)
	}
	for _, st := range []Status{Active, Inactive, Invalid} {
		rs, err := tx.GroupRulesByStatus(st)
		if err != nil {
			return err
		}
		for _, r := range rs {
			if !r.Excludes(u.ID) {
				continue
			}
			kept := []string{}
			for _, id := range r.ExcludeUserIDs {
				if id != u.ID {
					kept = append(kept, id)
				}
			}
			r.ExcludeUserIDs = kept
			if err := tx.UpdateGroupRule(r); err != nil {
				return err
			}
		}
	}
	return nil
}

var errNoRuleTx = errs.New(errs.Internal, "grouprule: the directory's transaction cannot read group rules")

// OnMembership is a directory.MembershipHook. A membership an
// administrator adds is theirs: the rules that managed it forget it, so
// they never remove it. A rule-managed membership an administrator
// removes adds the person to the rule's exclusions, as Okta does, so the
// rule does not add them back. Then the active rules whose condition
// looks at groups are applied to the person (a rule's own membership
// changes apply no rule by themselves, so rules cannot loop).
func (s *Service) OnMembership(ctx context.Context, dtx directory.Tx, g *directory.Group, u *directory.User, added bool) error {
	tx, ok := dtx.(Tx)
	if !ok {
		return errs.Wrap(errs.Internal, "Internal Server Error", errNoRuleTx)
	}
	managers, err := tx.ManagersOf(g.ID, u.ID)
	if err != nil {
		return err
	}
	for _, id := range managers {
		if _, err := tx.RemoveManaged(Managed{RuleID: id, GroupID: g.ID, UserID: u.ID}); err != nil {
			return err
		}
		if added {
			continue
		}
		r, err := tx.GroupRuleForUpdate(id)
		if err != nil {
			return err
		}
		if r.Excludes(u.ID) || len(r.ExcludeUserIDs) >= MaxExcluded {
			continue
		}
		r.ExcludeUserIDs = append(r.ExcludeUserIDs, u.ID)
		r.LastUpdated = s.now()
		if err := tx.UpdateGroupRule(r); err != nil {
			return err
		}
		if err := tx.Append(s.Events.New(ctx, EventAddExclusion, "Add user to group membership rule exclusions", audit.Success,
			RuleTarget(r), audit.UserTarget(u.ID, u.Login(), u.DisplayName()), audit.GroupTarget(g.ID, g.Name))); err != nil {
			return err
		}
	}
	if !Applies(u.Status) {
		return nil
	}
	rs, err := tx.GroupRulesByStatus(Active)
	if err != nil {
		return err
	}
	for _, r := range rs {
		if !readsGroups(r.Expression) {
			continue
		}
		prog, err := s.Expr.CompileCondition(r.Expression)
		if err != nil {
			return err
		}
		if err := s.apply(ctx, tx, r, prog, u); err != nil {
			return err
		}
	}
	return nil
}

// readsGroups reports whether a condition may look at the person's
// groups (isMemberOf..., Groups.*), so that a membership change can
// change its result.
func readsGroups(expression string) bool {
	return strings.Contains(expression, "isMemberOf") || strings.Contains(expression, "Groups.")
}

// OnGroupDelete is a directory.GroupHook: a rule that assigns to a
// deleted group becomes INVALID (its groups cannot change) and stops
// applying; the memberships it made in its other groups stay.
func (s *Service) OnGroupDelete(ctx context.Context, dtx directory.Tx, g *directory.Group) error {
	tx, ok := dtx.(Tx)
	if !ok {
		return errs.Wrap(errs.Internal, "Internal Server Error", errNoRuleTx)
	}
	rs, err := tx.GroupRulesTargeting(g.ID)
	if err != nil {
		return err
	}
	for _, r := range rs {
		if r.Status == Invalid {
			continue
		}
		r.Status, r.Evaluating, r.EvalAfter, r.LastUpdated = Invalid, false, "", s.now()
		if err := tx.UpdateGroupRule(r); err != nil {
			return err
		}
		if err := tx.Append(s.Events.New(ctx, EventInvalidate, "Group membership rule invalidated: group "+g.Name+" was deleted", audit.Success,
			RuleTarget(r), audit.GroupTarget(g.ID, g.Name))); err != nil {
			return err
		}
	}
	return nil
}
