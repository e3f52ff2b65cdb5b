package grouprule

import (
	"context"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/directory"
)

// Query selects rules for a list, in id order.
type Query struct {
	// Search keeps the rules whose name starts with it, compared
	// case-insensitively (Okta's search on rules).
	Search string
	After  string // the id of the last rule of the previous page
	Limit  int
}

// Managed is one membership a rule made: the rule added the person to the
// group (or the person was already in it by another rule's doing).
type Managed struct {
	RuleID  string
	GroupID string
	UserID  string
}

// Store keeps rules and the memberships they manage.
type Store interface {
	// Rule reads one rule; errs.NotFound when there is none.
	Rule(ctx context.Context, id string) (*Rule, error)
	Rules(ctx context.Context, q Query) ([]*Rule, error)
	// Evaluating lists the active rules whose activation pass is
	// unfinished.
	Evaluating(ctx context.Context) ([]*Rule, error)
	// ManagedCount counts the memberships a rule manages.
	ManagedCount(ctx context.Context, ruleID string) (int, error)
	// Update runs fn in one transaction.
	Update(ctx context.Context, fn func(Tx) error) error
}

// Tx is the write side of Store. It is also a directory.Tx: a rule's
// membership changes and its own bookkeeping commit together.
type Tx interface {
	directory.Tx
	// GroupRuleForUpdate reads a rule and locks it until commit.
	GroupRuleForUpdate(id string) (*Rule, error)
	// AdminGroup reports whether a group holds an administrator role,
	// locking it until commit so that no role is granted to it meanwhile;
	// errs.NotFound when there is no such group.
	AdminGroup(groupID string) (bool, error)
	// InsertGroupRule adds a rule; a rule with the same name (compared
	// case-insensitively) is an errs.Conflict.
	InsertGroupRule(r *Rule) error
	// UpdateGroupRule writes a rule (same name rule as InsertGroupRule).
	UpdateGroupRule(r *Rule) error
	// DeleteGroupRule removes a rule and its managed memberships' records
	// (not the memberships).
	DeleteGroupRule(id string) error
	// GroupRulesByStatus lists the rules of a status in id order.
	GroupRulesByStatus(s Status) ([]*Rule, error)
	// GroupRulesTargeting lists the rules that have groupID as a target.
	GroupRulesTargeting(groupID string) ([]*Rule, error)
	// UserGroupsIn lists the groups a person is a member of, as the
	// transaction sees them.
	UserGroupsIn(userID string) ([]*directory.Group, error)
	// AddManaged records that a rule manages a membership (a no-op when
	// recorded already).
	AddManaged(m Managed) error
	// RemoveManaged forgets one record; it reports whether there was one.
	RemoveManaged(m Managed) (bool, error)
	// ManagersOf lists the ids of the rules that manage a membership.
	ManagersOf(groupID, userID string) ([]string, error)
	// ManagedByRule lists up to limit records of a rule, in (group, user)
	// order after the given record (zero: from the start).
	ManagedByRule(ruleID string, after Managed, limit int) ([]Managed, error)
	Append(ev audit.Event) error
}
