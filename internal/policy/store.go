package policy

import (
	"context"

	"github.com/gatehouse/gatehouse/internal/audit"
)

// Store keeps policies, their rules and which access policy each app uses.
type Store interface {
	// Policies lists the policies of a type by priority.
	Policies(ctx context.Context, t Type) ([]*Policy, error)
	// Policy reads one policy; errs.NotFound when there is none.
	Policy(ctx context.Context, id string) (*Policy, error)
	// Rules lists a policy's rules by priority.
	Rules(ctx context.Context, policyID string) ([]*Rule, error)
	// AppRules reads, in one query, the active access policy of an app
	// and its rules by priority ("" and none when the app has no active
	// policy): the lookup of every single sign-on.
	AppRules(ctx context.Context, appID string) (policyID string, rules []*Rule, err error)
	// AppPolicy reads the access policy assigned to an app ("" for none).
	AppPolicy(ctx context.Context, appID string) (string, error)
	// PolicyApps lists the apps an access policy is assigned to.
	PolicyApps(ctx context.Context, policyID string) ([]string, error)
	// Version reads the counter every change bumps (see Tx.Bump).
	Version(ctx context.Context) (int64, error)
	// Update runs fn in one transaction.
	Update(ctx context.Context, fn func(Tx) error) error
	// Append writes an event that records no other change.
	Append(ctx context.Context, ev audit.Event) error
}

// Tx is the write side of Store.
type Tx interface {
	PolicyForUpdate(id string) (*Policy, error)
	// InsertPolicy adds a policy; a second system policy of a type is a
	// conflict.
	InsertPolicy(p *Policy) error
	UpdatePolicy(p *Policy) error
	// DeletePolicy removes a policy, its rules and its app assignments.
	DeletePolicy(id string) error
	RulesForUpdate(policyID string) ([]*Rule, error)
	InsertRule(r *Rule) error
	UpdateRule(r *Rule) error
	DeleteRule(policyID, id string) error
	// SetAppPolicy assigns an access policy to an app (replacing any).
	SetAppPolicy(appID, policyID string) error
	// Bump increments the version counter; every write transaction does,
	// so caches of rules know they are stale.
	Bump() error
	Append(ev audit.Event) error
}
