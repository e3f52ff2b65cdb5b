package policy

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/credential"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/ids"
)

// GroupReader is what the service needs to check the groups a rule names.
type GroupReader interface {
	Group(ctx context.Context, id string) (*directory.Group, error)
}

// Service manages and evaluates policies.
type Service struct {
	Store  Store
	Groups GroupReader
	IDs    *ids.Source
	Now    func() time.Time
	Events audit.Builder
	// DefaultPassword seeds the default password policy.
	DefaultPassword credential.Policy

	// cache holds the rules of apps evaluated since the policy version
	// last changed.
	mu       sync.Mutex
	cacheVer int64
	cache    map[string]appRules
}

type appRules struct {
	policyID string
	rules    []*Rule
}

// maxCachedApps bounds the cache; past it, it starts again.
const maxCachedApps = 20000

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }

// update runs fn in a transaction that also bumps the policy version, so
// every node's cache of rules sees the change at its next evaluation.
func (s *Service) update(ctx context.Context, fn func(Tx) error) error {
	return s.Store.Update(ctx, func(tx Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return tx.Bump()
	})
}

// Limits of rule settings.
const (
	MaxDuration = 90 * 24 * time.Hour
	maxName     = 255
)

func policyTarget(p *Policy) audit.Target {
	return audit.Target{ID: p.ID, Type: "PolicyEntity", AlternateID: string(p.Type), DisplayName: p.Name}
}

func ruleTarget(r *Rule) audit.Target {
	return audit.Target{ID: r.ID, Type: "PolicyRule", AlternateID: r.PolicyID, DisplayName: r.Name}
}

func errPolicyNotFound(id string) error {
	return &errs.Error{Kind: errs.NotFound, Code: "E0000007", Msg: "Not found: Resource not found: " + id + " (Policy)"}
}

func errRuleNotFound(id string) error {
	return &errs.Error{Kind: errs.NotFound, Code: "E0000007", Msg: "Not found: Resource not found: " + id + " (PolicyRule)"}
}

// EnsureDefaults creates the default sign-on policy (with its catch-all
// rule: allow, no second factor beyond the people who have one, the
// configured session timeouts) and the default password policy when they
// do not exist. Several nodes starting at once create them once.
func (s *Service) EnsureDefaults(ctx context.Context) error {
	for _, t := range []Type{SignOn, Password} {
		ps, err := s.Store.Policies(ctx, t)
		if err != nil {
			return err
		}
		has := false
		for _, p := range ps {
			has = has || p.System
		}
		if has {
			continue
		}
		now := s.now()
		p := &Policy{ID: s.IDs.New(ids.Policy), Type: t, Name: "Default Policy", Status: StatusActive, Priority: 1, System: true,
			Description: "The default policy applies in all situations if no other policy applies.", Created: now, LastUpdated: now}
		if t == Password {
			ps := PasswordSettingsOf(s.DefaultPassword)
			p.Password = &ps
		}
		err = s.update(ctx, func(tx Tx) error {
			if err := tx.InsertPolicy(p); err != nil {
				return err
			}
			if t == SignOn {
				r := &Rule{ID: s.IDs.New(ids.Rule), PolicyID: p.ID, Name: "Default Rule", Status: StatusActive, Priority: 1, System: true,
					Access: Allow, Created: now, LastUpdated: now}
				if err := tx.InsertRule(r); err != nil {
					return err
				}
			}
			return tx.Append(s.Events.New(ctx, "policy.lifecycle.create", "Create policy", audit.Success, policyTarget(p)))
		})
		if err != nil && !errs.Is(err, errs.Conflict) {
			return err
		}
	}
	return nil
}

// List lists the policies of a type.
func (s *Service) List(ctx context.Context, t Type) ([]*Policy, error) {
	if !t.Valid() {
		return nil, errs.InvalidFields("Api validation failed: type", errs.Field("type", "type: must be OKTA_SIGN_ON, ACCESS_POLICY or PASSWORD"))
	}
	return s.Store.Policies(ctx, t)
}

// Get reads a policy.
func (s *Service) Get(ctx context.Context, id string) (*Policy, error) {
	p, err := s.Store.Policy(ctx, id)
	if errs.Is(err, errs.NotFound) {
		return nil, errPolicyNotFound(id)
	}
	return p, err
}

// Default returns the system policy of a type.
func (s *Service) Default(ctx context.Context, t Type) (*Policy, error) {
	ps, err := s.Store.Policies(ctx, t)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		if p.System {
			return p, nil
		}
	}
	return nil, errs.NotFoundf("There is no default %s policy.", t)
}

// PasswordPolicy is the password policy in force (the default PASSWORD
// policy's settings).
func (s *Service) PasswordPolicy(ctx context.Context) (credential.Policy, error) {
	p, err := s.Default(ctx, Password)
	if err != nil {
		return credential.Policy{}, err
	}
	if p.Password == nil {
		return s.DefaultPassword, nil
	}
	return p.Password.Credential(), nil
}

func validName(field, name string) []errs.FieldError {
	if strings.TrimSpace(name) == "" {
		return []errs.FieldError{errs.Field(field, "%s: The field cannot be left blank", field)}
	}
	if utf8.RuneCountInString(name) > maxName || strings.ContainsAny(name, "\r\n") {
		return []errs.FieldError{errs.Field(field, "%s: must be a single line of at most %d characters", field, maxName)}
	}
	return nil
}

func validPassword(ps *PasswordSettings) []errs.FieldError {
	var fe []errs.FieldError
	rng := func(field string, v, lo, hi int) {
		if v < lo || v > hi {
			fe = append(fe, errs.Field(field, "%s: must be between %d and %d", field, lo, hi))
		}
	}
	rng("settings.password.complexity.minLength", ps.MinLength, 4, 256)
	rng("settings.password.complexity.minLowerCase", ps.MinLowerCase, 0, 1)
	rng("settings.password.complexity.minUpperCase", ps.MinUpperCase, 0, 1)
	rng("settings.password.complexity.minNumber", ps.MinNumber, 0, 1)
	rng("settings.password.complexity.minSymbol", ps.MinSymbol, 0, 1)
	rng("settings.password.age.historyCount", ps.HistoryCount, 0, 30)
	rng("settings.password.age.maxAgeDays", ps.MaxAgeDays, 0, 999)
	for _, a := range ps.ExcludeAttributes {
		if a != credential.AttrFirstName && a != credential.AttrLastName {
			fe = append(fe, errs.Field("settings.password.complexity.excludeAttributes", "settings.password.complexity.excludeAttributes: only firstName and lastName can be excluded"))
		}
	}
	return fe
}

// Create adds a policy. Only access policies (per-app sign-on rules) can
// be added: there is one session policy and one password policy, the
// defaults. A new access policy gets a catch-all rule that allows.
func (s *Service) Create(ctx context.Context, p *Policy) (*Policy, error) {
	if p.Type != Access {
		return nil, errs.InvalidFields("Api validation failed: type", errs.Field("type", "type: Gatehouse keeps one OKTA_SIGN_ON and one PASSWORD policy (the defaults); only ACCESS_POLICY policies can be created"))
	}
	if fe := validName("name", p.Name); fe != nil {
		return nil, errs.InvalidFields("Api validation failed: policy", fe...)
	}
	now := s.now()
	out := &Policy{ID: s.IDs.New(ids.Policy), Type: Access, Name: strings.TrimSpace(p.Name), Description: p.Description, Status: StatusActive,
		Priority: 1, Created: now, LastUpdated: now}
	if p.Status == StatusInactive {
		out.Status = StatusInactive
	}
	err := s.update(ctx, func(tx Tx) error {
		if err := tx.InsertPolicy(out); err != nil {
			return err
		}
		r := &Rule{ID: s.IDs.New(ids.Rule), PolicyID: out.ID, Name: "Catch-all Rule", Status: StatusActive, Priority: 1, System: true,
			Access: Allow, Created: now, LastUpdated: now}
		if err := tx.InsertRule(r); err != nil {
			return err
		}
		return tx.Append(s.Events.New(ctx, "policy.lifecycle.create", "Create policy", audit.Success, policyTarget(out)))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Update replaces a policy's name, description, status and (password
// policies) settings. System policies stay active.
func (s *Service) Update(ctx context.Context, id string, in *Policy) (*Policy, error) {
	var out *Policy
	err := s.update(ctx, func(tx Tx) error {
		p, err := tx.PolicyForUpdate(id)
		if errs.Is(err, errs.NotFound) {
			return errPolicyNotFound(id)
		}
		if err != nil {
			return err
		}
		if in.Type != "" && in.Type != p.Type {
			return errs.InvalidFields("Api validation failed: type", errs.Field("type", "type: the type of a policy cannot change"))
		}
		fe := validName("name", in.Name)
		status := in.Status
		if status == "" {
			status = p.Status
		}
		if status != StatusActive && status != StatusInactive {
			fe = append(fe, errs.Field("status", "status: must be ACTIVE or INACTIVE"))
		}
		if p.System && status != StatusActive {
			fe = append(fe, errs.Field("status", "status: a default policy cannot be deactivated"))
		}
		if p.Type == Password {
			if in.Password == nil {
				fe = append(fe, errs.Field("settings.password", "settings.password: a password policy needs its settings"))
			} else {
				fe = append(fe, validPassword(in.Password)...)
			}
		}
		if fe != nil {
			return errs.InvalidFields("Api validation failed: policy", fe...)
		}
		p.Name, p.Description, p.Status, p.LastUpdated = strings.TrimSpace(in.Name), in.Description, status, s.now()
		if p.Type == Password {
			ps := *in.Password
			p.Password = &ps
		}
		if err := tx.UpdatePolicy(p); err != nil {
			return err
		}
		out = p
		return tx.Append(s.Events.New(ctx, "policy.lifecycle.update", "Update policy", audit.Success, policyTarget(p)))
	})
	return out, err
}

// Delete removes an access policy (and its rules and app assignments).
func (s *Service) Delete(ctx context.Context, id string) error {
	return s.update(ctx, func(tx Tx) error {
		p, err := tx.PolicyForUpdate(id)
		if errs.Is(err, errs.NotFound) {
			return errPolicyNotFound(id)
		}
		if err != nil {
			return err
		}
		if p.System {
			return &errs.Error{Kind: errs.IllegalState, Code: "E0000038", Msg: "A default policy cannot be deleted."}
		}
		if err := tx.DeletePolicy(p.ID); err != nil {
			return err
		}
		return tx.Append(s.Events.New(ctx, "policy.lifecycle.delete", "Delete policy", audit.Success, policyTarget(p)))
	})
}

// Rules lists a policy's rules by priority.
func (s *Service) Rules(ctx context.Context, policyID string) (*Policy, []*Rule, error) {
	p, err := s.Get(ctx, policyID)
	if err != nil {
		return nil, nil, err
	}
	if p.Type == Password {
		return p, []*Rule{}, nil
	}
	rs, err := s.Store.Rules(ctx, p.ID)
	return p, rs, err
}

// Rule reads one rule.
func (s *Service) Rule(ctx context.Context, policyID, ruleID string) (*Rule, error) {
	_, rs, err := s.Rules(ctx, policyID)
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		if r.ID == ruleID {
			return r, nil
		}
	}
	return nil, errRuleNotFound(ruleID)
}

// validRule checks a rule for a policy of type t.
func (s *Service) validRule(ctx context.Context, t Type, r *Rule, system bool) []errs.FieldError {
	fe := validName("name", r.Name)
	if r.Status != StatusActive && r.Status != StatusInactive {
		fe = append(fe, errs.Field("status", "status: must be ACTIVE or INACTIVE"))
	}
	if system && r.Status != StatusActive {
		fe = append(fe, errs.Field("status", "status: the default rule cannot be deactivated"))
	}
	prefix := "actions.appSignOn."
	if t == SignOn {
		prefix = "actions.signon."
	}
	if r.Access != Allow && r.Access != Deny {
		fe = append(fe, errs.Field(prefix+"access", "%saccess: must be ALLOW or DENY", prefix))
	}
	dur := func(field string, d time.Duration, min time.Duration) {
		if d < 0 || d > MaxDuration || (d != 0 && d < min) {
			fe = append(fe, errs.Field(field, "%s: must be between %s and %d days", field, min, int(MaxDuration/(24*time.Hour))))
		}
	}
	switch t {
	case SignOn:
		dur(prefix+"factorLifetime", r.RememberDevice, time.Minute)
		dur(prefix+"session.maxSessionIdleMinutes", r.SessionIdle, time.Minute)
		dur(prefix+"session.maxSessionLifetimeMinutes", r.SessionMax, time.Minute)
		if r.SessionIdle > 0 && r.SessionMax > 0 && r.SessionIdle > r.SessionMax {
			fe = append(fe, errs.Field(prefix+"session.maxSessionIdleMinutes", "%ssession.maxSessionIdleMinutes: cannot be longer than the session lifetime", prefix))
		}
		if r.Reauthenticate != 0 {
			fe = append(fe, errs.Field("actions.appSignOn", "actions.appSignOn: belongs to ACCESS_POLICY rules"))
		}
	case Access:
		dur(prefix+"verificationMethod.reauthenticateIn", r.Reauthenticate, time.Minute)
		if r.RememberDevice != 0 || r.SessionIdle != 0 || r.SessionMax != 0 {
			fe = append(fe, errs.Field("actions.signon", "actions.signon: belongs to OKTA_SIGN_ON rules"))
		}
		if r.Reauthenticate > 0 && !r.RequireMFA {
			fe = append(fe, errs.Field(prefix+"verificationMethod.reauthenticateIn", "%sverificationMethod.reauthenticateIn: asking again needs factorMode 2FA", prefix))
		}
	}
	if r.Access == Deny && r.RequireMFA {
		fe = append(fe, errs.Field(prefix+"access", "%saccess: a rule that denies cannot also ask for a factor", prefix))
	}
	if system && (len(r.Groups.Include) > 0 || len(r.Groups.Exclude) > 0) {
		fe = append(fe, errs.Field("conditions.people.groups", "conditions.people.groups: the default rule applies to everyone"))
	}
	for _, list := range [][]string{r.Groups.Include, r.Groups.Exclude} {
		if len(list) > 100 {
			fe = append(fe, errs.Field("conditions.people.groups", "conditions.people.groups: at most 100 groups"))
			break
		}
		for _, id := range list {
			if !ids.Valid(id, ids.Group) {
				fe = append(fe, errs.Field("conditions.people.groups", "conditions.people.groups: %q is not a group id", id))
				continue
			}
			if _, err := s.Groups.Group(ctx, id); err != nil {
				fe = append(fe, errs.Field("conditions.people.groups", "conditions.people.groups: the group %s does not exist", id))
			}
		}
	}
	return fe
}

// renumber orders rules 1..n by priority with the system rule last. It
// returns the rules whose stored priority (in orig) changed.
func renumber(rs []*Rule, orig map[*Rule]int) []*Rule {
	sort.SliceStable(rs, func(i, j int) bool {
		if rs[i].System != rs[j].System {
			return !rs[i].System
		}
		return rs[i].Priority < rs[j].Priority
	})
	var changed []*Rule
	for i, r := range rs {
		r.Priority = i + 1
		if p, ok := orig[r]; ok && p != r.Priority {
			changed = append(changed, r)
		}
	}
	return changed
}

func priorities(rs []*Rule) map[*Rule]int {
	m := make(map[*Rule]int, len(rs))
	for _, r := range rs {
		m[r] = r.Priority
	}
	return m
}

// CreateRule adds a rule to a sign-on or access policy, at its priority
// (1 is first; 0 or past the end puts it last before the default rule).
func (s *Service) CreateRule(ctx context.Context, policyID string, in *Rule) (*Rule, error) {
	p, err := s.Get(ctx, policyID)
	if err != nil {
		return nil, err
	}
	if p.Type == Password {
		return nil, errs.InvalidFields("Api validation failed: rule", errs.Field("type", "type: Gatehouse keeps no rules in password policies"))
	}
	r := *in
	if r.Status == "" {
		r.Status = StatusActive
	}
	if fe := s.validRule(ctx, p.Type, &r, false); fe != nil {
		return nil, errs.InvalidFields("Api validation failed: rule", fe...)
	}
	now := s.now()
	r.ID, r.PolicyID, r.System, r.Created, r.LastUpdated, r.Name = s.IDs.New(ids.Rule), p.ID, false, now, now, strings.TrimSpace(r.Name)
	err = s.update(ctx, func(tx Tx) error {
		rs, err := tx.RulesForUpdate(p.ID)
		if err != nil {
			return err
		}
		n := 0
		for _, x := range rs {
			if !x.System {
				n++
			}
		}
		if r.Priority <= 0 || r.Priority > n+1 {
			r.Priority = n + 1
		}
		// Shift the rules at or after the new one.
		orig := priorities(rs)
		for _, x := range rs {
			if !x.System && x.Priority >= r.Priority {
				x.Priority++
			}
		}
		for _, x := range renumber(append(rs, &r), orig) {
			if err := tx.UpdateRule(x); err != nil {
				return err
			}
		}
		if err := tx.InsertRule(&r); err != nil {
			return err
		}
		return tx.Append(s.Events.New(ctx, "policy.rule.add", "Add policy rule", audit.Success, policyTarget(p), ruleTarget(&r)))
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// UpdateRule replaces a rule's settings. The default rule keeps applying
// to everyone and stays last.
func (s *Service) UpdateRule(ctx context.Context, policyID, ruleID string, in *Rule) (*Rule, error) {
	p, err := s.Get(ctx, policyID)
	if err != nil {
		return nil, err
	}
	var out *Rule
	err = s.update(ctx, func(tx Tx) error {
		rs, err := tx.RulesForUpdate(p.ID)
		if err != nil {
			return err
		}
		var cur *Rule
		for _, x := range rs {
			if x.ID == ruleID {
				cur = x
			}
		}
		if cur == nil {
			return errRuleNotFound(ruleID)
		}
		orig := priorities(rs)
		next := *in
		if next.Status == "" {
			next.Status = cur.Status
		}
		if fe := s.validRule(ctx, p.Type, &next, cur.System); fe != nil {
			return errs.InvalidFields("Api validation failed: rule", fe...)
		}
		next.ID, next.PolicyID, next.System, next.Created, next.LastUpdated, next.Name = cur.ID, cur.PolicyID, cur.System, cur.Created, s.now(), strings.TrimSpace(next.Name)
		if next.Priority <= 0 || cur.System {
			next.Priority = cur.Priority
		} else if next.Priority != cur.Priority {
			// Move: others between the old and new place shift by one.
			for _, x := range rs {
				if x == cur || x.System {
					continue
				}
				if next.Priority < cur.Priority && x.Priority >= next.Priority && x.Priority < cur.Priority {
					x.Priority++
				} else if next.Priority > cur.Priority && x.Priority <= next.Priority && x.Priority > cur.Priority {
					x.Priority--
				}
			}
		}
		*cur = next
		for _, x := range renumber(rs, orig) {
			if x != cur {
				if err := tx.UpdateRule(x); err != nil {
					return err
				}
			}
		}
		if err := tx.UpdateRule(cur); err != nil {
			return err
		}
		out = cur
		return tx.Append(s.Events.New(ctx, "policy.rule.update", "Update policy rule", audit.Success, policyTarget(p), ruleTarget(cur)))
	})
	return out, err
}

// DeleteRule removes a rule; the default rule stays.
func (s *Service) DeleteRule(ctx context.Context, policyID, ruleID string) error {
	p, err := s.Get(ctx, policyID)
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx) error {
		rs, err := tx.RulesForUpdate(p.ID)
		if err != nil {
			return err
		}
		var cur *Rule
		var rest []*Rule
		for _, x := range rs {
			if x.ID == ruleID {
				cur = x
			} else {
				rest = append(rest, x)
			}
		}
		if cur == nil {
			return errRuleNotFound(ruleID)
		}
		if cur.System {
			return &errs.Error{Kind: errs.IllegalState, Code: "E0000038", Msg: "The default rule cannot be deleted."}
		}
		if err := tx.DeleteRule(p.ID, cur.ID); err != nil {
			return err
		}
		for _, x := range renumber(rest, priorities(rest)) {
			if err := tx.UpdateRule(x); err != nil {
				return err
			}
		}
		return tx.Append(s.Events.New(ctx, "policy.rule.delete", "Delete policy rule", audit.Success, policyTarget(p), ruleTarget(cur)))
	})
}

// SetStatus activates or deactivates a policy (Okta's lifecycle/activate
// and lifecycle/deactivate). A default policy stays active. An inactive
// access policy is not applied: its apps allow as if they had none. A
// policy already in that status is left as it is (no event).
func (s *Service) SetStatus(ctx context.Context, id, status string) error {
	return s.update(ctx, func(tx Tx) error {
		p, err := tx.PolicyForUpdate(id)
		if errs.Is(err, errs.NotFound) {
			return errPolicyNotFound(id)
		}
		if err != nil {
			return err
		}
		if p.System && status != StatusActive {
			return &errs.Error{Kind: errs.IllegalState, Code: "E0000038", Msg: "A default policy cannot be deactivated."}
		}
		if p.Status == status {
			return nil
		}
		p.Status, p.LastUpdated = status, s.now()
		if err := tx.UpdatePolicy(p); err != nil {
			return err
		}
		typ, msg := "policy.lifecycle.activate", "Activate policy"
		if status == StatusInactive {
			typ, msg = "policy.lifecycle.deactivate", "Deactivate policy"
		}
		return tx.Append(s.Events.New(ctx, typ, msg, audit.Success, policyTarget(p)))
	})
}

// SetRuleStatus activates or deactivates a rule. The default rule stays
// active; an inactive rule is skipped at evaluation.
func (s *Service) SetRuleStatus(ctx context.Context, policyID, ruleID, status string) error {
	p, err := s.Get(ctx, policyID)
	if err != nil {
		return err
	}
	return s.update(ctx, func(tx Tx) error {
		rs, err := tx.RulesForUpdate(p.ID)
		if err != nil {
			return err
		}
		var cur *Rule
		for _, x := range rs {
			if x.ID == ruleID {
				cur = x
			}
		}
		if cur == nil {
			return errRuleNotFound(ruleID)
		}
		if cur.System && status != StatusActive {
			return &errs.Error{Kind: errs.IllegalState, Code: "E0000038", Msg: "The default rule cannot be deactivated."}
		}
		if cur.Status == status {
			return nil
		}
		cur.Status, cur.LastUpdated = status, s.now()
		if err := tx.UpdateRule(cur); err != nil {
			return err
		}
		typ, msg := "policy.rule.activate", "Activate policy rule"
		if status == StatusInactive {
			typ, msg = "policy.rule.deactivate", "Deactivate policy rule"
		}
		return tx.Append(s.Events.New(ctx, typ, msg, audit.Success, policyTarget(p), ruleTarget(cur)))
	})
}

// AssignApp makes an access policy the sign-on policy of an app.
func (s *Service) AssignApp(ctx context.Context, appID, appLabel, policyID string) error {
	return s.update(ctx, func(tx Tx) error {
		p, err := tx.PolicyForUpdate(policyID)
		if errs.Is(err, errs.NotFound) {
			return errPolicyNotFound(policyID)
		}
		if err != nil {
			return err
		}
		if p.Type != Access {
			return errs.InvalidFields("Api validation failed: policy", errs.Field("policyId", "policyId: an app takes an ACCESS_POLICY"))
		}
		if err := tx.SetAppPolicy(appID, p.ID); err != nil {
			return err
		}
		return tx.Append(s.Events.New(ctx, "application.policy.sign_on.update", "Update sign on policy for application", audit.Success,
			audit.AppTarget(appID, "", appLabel), policyTarget(p)))
	})
}

// AppPolicy returns the access policy of an app, creating one named for
// the app (with its catch-all rule) when it has none.
func (s *Service) AppPolicy(ctx context.Context, appID, appLabel string, create bool) (*Policy, error) {
	id, err := s.Store.AppPolicy(ctx, appID)
	if err != nil {
		return nil, err
	}
	if id != "" {
		return s.Get(ctx, id)
	}
	if !create {
		return nil, nil
	}
	p, err := s.Create(ctx, &Policy{Type: Access, Name: fmt.Sprintf("%s sign-on policy", appLabel)})
	if err != nil {
		return nil, err
	}
	if err := s.AssignApp(ctx, appID, appLabel, p.ID); err != nil {
		return nil, err
	}
	return p, nil
}
