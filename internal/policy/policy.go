// Package policy holds the sign-on policies, in the model of Okta's
// Policy API: the global session policy (OKTA_SIGN_ON: who may sign in,
// whether a second factor is asked, "remember this device", session
// lifetime and idle timeout), per-app sign-on rules (ACCESS_POLICY: allow
// only some groups, require a second factor, ask for it again every N
// hours) and the password policy (PASSWORD: complexity, history, maximum
// age). Rules are evaluated in priority order; the first active rule whose
// conditions match decides. Storage is behind Store; every change commits
// with its system-log event.
package policy

import (
	"time"

	"github.com/gatehouse/gatehouse/internal/credential"
)

// Type is a policy type, as Okta names it.
type Type string

// Policy types.
const (
	SignOn   Type = "OKTA_SIGN_ON"
	Access   Type = "ACCESS_POLICY"
	Password Type = "PASSWORD"
)

// Valid reports whether t is a type Gatehouse implements.
func (t Type) Valid() bool { return t == SignOn || t == Access || t == Password }

// RuleType is the type of a policy's rules, as Okta names it.
func (t Type) RuleType() string {
	if t == SignOn {
		return "SIGN_ON"
	}
	return string(t)
}

// Statuses of policies and rules.
const (
	StatusActive   = "ACTIVE"
	StatusInactive = "INACTIVE"
)

// Access decisions of a rule.
const (
	Allow = "ALLOW"
	Deny  = "DENY"
)

// Policy is one policy. Sign-on and access policies decide through their
// rules; a password policy carries its settings.
type Policy struct {
	ID          string    `json:"-"`
	Type        Type      `json:"-"`
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Status      string    `json:"-"`
	Priority    int       `json:"-"`
	System      bool      `json:"-"`
	Created     time.Time `json:"-"`
	LastUpdated time.Time `json:"-"`
	// Groups limits a password policy to people of these groups (empty:
	// everyone); kept for Okta's shape, only the default applies.
	Groups   Groups            `json:"groups"`
	Password *PasswordSettings `json:"password,omitempty"`
}

// Groups is a people condition: included groups (empty: everyone) and
// excluded groups.
type Groups struct {
	Include []string `json:"include,omitempty"`
	Exclude []string `json:"exclude,omitempty"`
}

// Matches reports whether a person in groupIDs meets the condition.
func (g Groups) Matches(groupIDs []string) bool {
	in := func(id string) bool {
		for _, x := range groupIDs {
			if x == id {
				return true
			}
		}
		return false
	}
	for _, x := range g.Exclude {
		if in(x) {
			return false
		}
	}
	if len(g.Include) == 0 {
		return true
	}
	for _, x := range g.Include {
		if in(x) {
			return true
		}
	}
	return false
}

// PasswordSettings are the complexity and age settings of a password
// policy (Okta's settings.password.complexity and .age).
type PasswordSettings struct {
	MinLength         int      `json:"minLength"`
	MinLowerCase      int      `json:"minLowerCase"`
	MinUpperCase      int      `json:"minUpperCase"`
	MinNumber         int      `json:"minNumber"`
	MinSymbol         int      `json:"minSymbol"`
	ExcludeUsername   bool     `json:"excludeUsername"`
	ExcludeAttributes []string `json:"excludeAttributes,omitempty"`
	HistoryCount      int      `json:"historyCount"`
	MaxAgeDays        int      `json:"maxAgeDays"`
}

// PasswordSettingsOf are the settings of a credential policy.
func PasswordSettingsOf(p credential.Policy) PasswordSettings {
	return PasswordSettings{MinLength: p.MinLength, MinLowerCase: p.MinLower, MinUpperCase: p.MinUpper, MinNumber: p.MinNumber,
		MinSymbol: p.MinSymbol, ExcludeUsername: p.ExcludeUsername, ExcludeAttributes: p.ExcludeAttributes,
		HistoryCount: p.HistoryCount, MaxAgeDays: p.MaxAgeDays}
}

// Credential is the credential policy the settings describe.
func (s PasswordSettings) Credential() credential.Policy {
	return credential.Policy{MinLength: s.MinLength, MinLower: s.MinLowerCase, MinUpper: s.MinUpperCase, MinNumber: s.MinNumber,
		MinSymbol: s.MinSymbol, ExcludeUsername: s.ExcludeUsername, ExcludeAttributes: s.ExcludeAttributes,
		HistoryCount: s.HistoryCount, MaxAgeDays: s.MaxAgeDays}
}

// Rule is one rule of a sign-on or access policy.
type Rule struct {
	ID          string    `json:"-"`
	PolicyID    string    `json:"-"`
	Name        string    `json:"name"`
	Status      string    `json:"-"`
	Priority    int       `json:"-"`
	System      bool      `json:"-"`
	Created     time.Time `json:"-"`
	LastUpdated time.Time `json:"-"`
	// Groups is the rule's people condition.
	Groups Groups `json:"groups"`
	// Access is ALLOW or DENY.
	Access string `json:"access"`
	// RequireMFA asks for a second factor (sign-on: requireFactor;
	// access: factorMode 2FA).
	RequireMFA bool `json:"requireMfa,omitempty"`
	// RememberDevice (sign-on rules) lets a browser skip the second
	// factor at sign-in for this long after giving it (Okta's
	// factorPromptMode DEVICE with factorLifetime); zero asks every time.
	RememberDevice time.Duration `json:"rememberDevice,omitempty"`
	// SessionIdle and SessionMax (sign-on rules) bound the session; zero
	// keeps the configured session_idle and session_max.
	SessionIdle time.Duration `json:"sessionIdle,omitempty"`
	SessionMax  time.Duration `json:"sessionMax,omitempty"`
	// Reauthenticate (access rules) asks for the second factor again when
	// the session's last one is older (Okta's reauthenticateIn); zero
	// accepts any factor given in the session.
	Reauthenticate time.Duration `json:"reauthenticate,omitempty"`
}

// Active reports whether the rule takes part in evaluation.
func (r *Rule) Active() bool { return r.Status == StatusActive }
