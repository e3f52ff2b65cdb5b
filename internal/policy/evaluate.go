package policy

import (
	"context"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
)

// Challenge is the outcome that asks for a second factor first.
const Challenge = "CHALLENGE"

// Decision is the outcome of evaluating a policy for one person.
type Decision struct {
	// Outcome is ALLOW, DENY or CHALLENGE.
	Outcome          string
	PolicyID, RuleID string
	RuleName         string
	// The settings of the rule that decided.
	RequireMFA     bool
	RememberDevice time.Duration
	SessionIdle    time.Duration
	SessionMax     time.Duration
	Reauthenticate time.Duration
}

// firstMatch is the first active rule, by priority, whose people
// condition the person meets.
func firstMatch(rules []*Rule, groupIDs []string) *Rule {
	for _, r := range rules {
		if r.Active() && r.Groups.Matches(groupIDs) {
			return r
		}
	}
	return nil
}

// EvaluateApp decides whether a person (in groupIDs, whose session last
// gave a second factor at lastFactor, zero for never) may sign on to an
// app now: ALLOW, DENY, or CHALLENGE (a second factor first). An app
// without an active access policy allows; a policy whose rules do not
// match denies (fail closed).
//
// The rules come from a per-node cache that is valid while the policy
// version (one primary-key read) is unchanged: any change on any node
// bumps it in its own transaction.
func (s *Service) EvaluateApp(ctx context.Context, appID string, groupIDs []string, lastFactor time.Time) (Decision, error) {
	ar, err := s.appRules(ctx, appID)
	if err != nil {
		return Decision{}, err
	}
	if ar.policyID == "" {
		return Decision{Outcome: Allow}, nil
	}
	return decide(ar.policyID, ar.rules, groupIDs, lastFactor, s.Now()), nil
}

// appRules returns an app's policy and rules, from the cache when the
// policy version has not moved. Cached rules are never modified.
func (s *Service) appRules(ctx context.Context, appID string) (appRules, error) {
	v, err := s.Store.Version(ctx)
	if err != nil {
		return appRules{}, err
	}
	s.mu.Lock()
	if v != s.cacheVer || s.cache == nil || len(s.cache) > maxCachedApps {
		s.cache, s.cacheVer = map[string]appRules{}, v
	}
	ar, ok := s.cache[appID]
	s.mu.Unlock()
	if ok {
		return ar, nil
	}
	pid, rules, err := s.Store.AppRules(ctx, appID)
	if err != nil {
		return appRules{}, err
	}
	ar = appRules{policyID: pid, rules: rules}
	s.mu.Lock()
	if s.cacheVer == v {
		s.cache[appID] = ar
	}
	s.mu.Unlock()
	return ar, nil
}

func decide(pid string, rules []*Rule, groupIDs []string, lastFactor, now time.Time) Decision {
	d := Decision{PolicyID: pid}
	r := firstMatch(rules, groupIDs)
	if r == nil {
		d.Outcome = Deny
		return d
	}
	d.RuleID, d.RuleName, d.RequireMFA, d.Reauthenticate = r.ID, r.Name, r.RequireMFA, r.Reauthenticate
	d.RememberDevice, d.SessionIdle, d.SessionMax = r.RememberDevice, r.SessionIdle, r.SessionMax
	switch {
	case r.Access == Deny:
		d.Outcome = Deny
	case r.RequireMFA && (lastFactor.IsZero() || (r.Reauthenticate > 0 && now.Sub(lastFactor) > r.Reauthenticate)):
		d.Outcome = Challenge
	default:
		d.Outcome = Allow
	}
	return d
}

// EvaluateSignIn decides what the session policy asks of a person at
// sign-in (before any second factor): DENY, CHALLENGE (a second factor is
// required), or ALLOW, with the session timeouts and remember-device
// lifetime of the rule that matched.
func (s *Service) EvaluateSignIn(ctx context.Context, groupIDs []string) (Decision, error) {
	p, err := s.Default(ctx, SignOn)
	if err != nil {
		return Decision{}, err
	}
	rules, err := s.Store.Rules(ctx, p.ID)
	if err != nil {
		return Decision{}, err
	}
	return decide(p.ID, rules, groupIDs, time.Time{}, s.Now()), nil
}

// Log records a decision as Okta's policy.evaluate_sign_on event with its
// outcome (ALLOW, DENY or CHALLENGE), the person and the app.
func (s *Service) Log(ctx context.Context, d Decision, targets ...audit.Target) error {
	msg := "Evaluation of sign-on policy"
	ev := s.Events.New(ctx, "policy.evaluate_sign_on", msg, d.Outcome, targets...)
	if d.Outcome == Deny {
		ev.Severity = audit.Warn
	}
	ev.Debug = map[string]string{"policyId": d.PolicyID}
	if d.RuleID != "" {
		ev.Debug["ruleId"], ev.Debug["ruleName"] = d.RuleID, d.RuleName
		ev.Target = append(ev.Target, audit.Target{ID: d.RuleID, Type: "PolicyRule", AlternateID: d.PolicyID, DisplayName: d.RuleName})
	}
	if d.Outcome == Deny {
		ev.Outcome.Reason = "POLICY_DENY"
	}
	if d.Outcome == Challenge {
		ev.Outcome.Reason = "SECOND_FACTOR_REQUIRED"
	}
	return s.Store.Append(ctx, ev)
}
