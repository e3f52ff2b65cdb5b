// Package grouprule implements Okta's group rules: dynamic group
// membership. A rule has a condition in Okta Expression Language (a
// boolean over the person's profile and groups), target groups and
// excluded people. An active rule adds every matching person to its
// target groups, and removes the memberships it made from people who stop
// matching; memberships an administrator made are never removed by a
// rule. Membership changes go through the directory (directory.Service's
// AddMemberIn and RemoveMemberIn), so their events and hooks are those of
// manual membership. It is storage-agnostic; Store is implemented by
// sqlstore.
package grouprule

import (
	"time"

	"github.com/gatehouse/gatehouse/internal/directory"
)

// Status is a rule's status, as in Okta.
type Status string

// Rule statuses.
const (
	Active   Status = "ACTIVE"
	Inactive Status = "INACTIVE"
	// Invalid is a rule that cannot be applied any more: one of its
	// target groups was deleted. It can only be deleted.
	Invalid Status = "INVALID"
)

// ExpressionType is the only expression type Okta defines for rules.
const ExpressionType = "urn:okta:expression:1.0"

// Limits Okta documents for a rule.
const (
	MaxName     = 50  // characters
	MaxGroups   = 100 // target groups
	MaxExcluded = 100 // excluded people
)

// Rule is a group rule.
type Rule struct {
	ID         string
	Name       string
	Status     Status
	Expression string
	// GroupIDs are the target groups (Okta's
	// actions.assignUserToGroups.groupIds); they cannot change after
	// creation.
	GroupIDs []string
	// ExcludeUserIDs are people the rule never adds
	// (conditions.people.users.exclude).
	ExcludeUserIDs []string
	Created        time.Time
	LastUpdated    time.Time
	// Evaluating is set while the pass that applies a newly activated
	// rule to the whole directory is unfinished; EvalAfter is the id of
	// the last person it has evaluated. A pass interrupted by a crash is
	// resumed (Service.Resume).
	Evaluating bool
	EvalAfter  string
}

// Excludes reports whether the rule excludes the person with this id.
func (r *Rule) Excludes(userID string) bool {
	for _, id := range r.ExcludeUserIDs {
		if id == userID {
			return true
		}
	}
	return false
}

// Targets reports whether groupID is one of the rule's target groups.
func (r *Rule) Targets(groupID string) bool {
	for _, id := range r.GroupIDs {
		if id == groupID {
			return true
		}
	}
	return false
}

// Applies reports whether rules move a person in status s: Okta's rules
// do not move people who are pending (STAGED, PROVISIONED) or inactive
// (DEPROVISIONED); their memberships stay as they are.
func Applies(s directory.Status) bool {
	switch s {
	case directory.Staged, directory.Provisioned, directory.Deprovisioned:
		return false
	}
	return true
}
