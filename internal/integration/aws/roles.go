package aws

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/gatehouse/gatehouse/internal/errs"
)

// Role is an IAM role imported from an account: one that trusts at least one
// of the app's IAM SAML providers.
type Role struct {
	Arn          string
	Name         string
	AccountID    string
	AccountAlias string   // from ListAccountAliases; "" when the account has none
	ProviderArns []string // the app's SAML providers the role's trust policy allows
}

// Label is how the assignment form lists the role: the bare name for a
// single account, "<alias or account> -- <name>" when several accounts are
// imported (Okta's multi-account value form).
func (r Role) Label(multiAccount bool) string {
	if !multiAccount {
		return r.Name
	}
	if r.AccountAlias != "" {
		return "[" + r.AccountAlias + "] -- " + r.Name
	}
	return r.AccountID + " -- " + r.Name
}

// RolePair is one value of the AWS Role attribute: a role and the SAML
// provider AWS checks the assertion against.
type RolePair struct {
	RoleArn     string
	ProviderArn string
}

// String renders the pair in the order AWS documents: "role-arn,provider-arn".
func (p RolePair) String() string { return p.RoleArn + "," + p.ProviderArn }

// AssignmentProfile is the AWS part of an app assignment's profile.
type AssignmentProfile struct {
	Role      string   // profile.role: one role value
	SAMLRoles []string // profile.samlRoles: the roles sent in SAML
}

// Values are the role values the profile grants: samlRoles, or role when
// samlRoles is empty.
func (p AssignmentProfile) Values() []string {
	var out []string
	for _, v := range p.SAMLRoles {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	if len(out) == 0 {
		if v := strings.TrimSpace(p.Role); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// ParseProfile reads role and samlRoles from an assignment profile as decoded
// from JSON. Other keys are ignored.
func ParseProfile(m map[string]any) (AssignmentProfile, error) {
	var p AssignmentProfile
	var bad []FieldError
	switch v := m["role"].(type) {
	case nil:
	case string:
		p.Role = strings.TrimSpace(v)
	default:
		bad = append(bad, errs.Field("role", "must be a role name"))
	}
	switch v := m["samlRoles"].(type) {
	case nil:
	case string:
		if v = strings.TrimSpace(v); v != "" {
			p.SAMLRoles = []string{v}
		}
	case []string:
		p.SAMLRoles = append(p.SAMLRoles, v...)
	case []any:
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				bad = append(bad, errs.Field("samlRoles", "must be a list of role names"))
				break
			}
			p.SAMLRoles = append(p.SAMLRoles, s)
		}
	default:
		bad = append(bad, errs.Field("samlRoles", "must be a list of role names"))
	}
	if len(bad) > 0 {
		return p, errs.InvalidFields("The assignment's AWS roles have values of the wrong type.", bad...)
	}
	return p, nil
}

// EntitlementInput is what decides a person's AWS roles.
type EntitlementInput struct {
	Settings Settings
	Roles    []Role // imported roles
	// User is the person's own (direct) assignment; nil when the person has
	// the app only through groups.
	User *AssignmentProfile
	// Groups are the profiles of the group assignments that give the person
	// the app, highest priority first.
	Groups []AssignmentProfile
	// GroupNames are the names of the person's groups (for group mapping).
	GroupNames []string
}

// NoRolesError says a person has no AWS role to sign in with. Unresolved
// lists assigned role values that matched no imported role.
type NoRolesError struct {
	Unresolved []string
}

func (e *NoRolesError) Error() string {
	if len(e.Unresolved) > 0 {
		return "aws: no AWS role for this person; these assigned roles are not among the imported roles: " + strings.Join(e.Unresolved, ", ")
	}
	return "aws: no AWS role is assigned to this person"
}

// NoProviderError says a role's account has no identity provider ARN in the
// app settings.
type NoProviderError struct {
	AccountID string
	RoleArn   string
}

func (e *NoProviderError) Error() string {
	return fmt.Sprintf("aws: role %s is in account %s, but the app has no Identity Provider ARN for account %s", e.RoleArn, e.AccountID, e.AccountID)
}

// Entitlements computes the Role attribute pairs of a person.
//
// With group mapping, every group name matching the groupFilter yields the
// pair rendered from roleValuePattern (assignment profiles are not used).
// Otherwise roles come from assignment profiles: joinAllRoles off takes the
// direct assignment's roles when it grants any, else those of the
// highest-priority group assignment that grants any; joinAllRoles on takes
// the union of all. Each role value is resolved against the imported roles
// and paired with the identity provider ARN of the role's account. Pairs are
// de-duplicated and keep the order of first appearance.
func Entitlements(in EntitlementInput) ([]RolePair, error) {
	if in.Settings.UseGroupMapping {
		return groupEntitlements(in)
	}
	var values []string
	own := []string(nil)
	if in.User != nil {
		own = in.User.Values()
	}
	if in.Settings.JoinAllRoles {
		values = append(values, own...)
		for _, g := range in.Groups {
			values = append(values, g.Values()...)
		}
	} else if len(own) > 0 {
		values = own
	} else {
		for _, g := range in.Groups {
			if v := g.Values(); len(v) > 0 {
				values = v
				break
			}
		}
	}
	if len(values) == 0 {
		return nil, &NoRolesError{}
	}
	providers, err := providersByAccount(in.Settings)
	if err != nil {
		return nil, err
	}
	idx := newRoleIndex(in.Roles)
	var pairs []RolePair
	var unresolved []string
	seen := map[RolePair]bool{}
	for _, v := range values {
		r, err := idx.resolve(v)
		if err != nil {
			unresolved = append(unresolved, v)
			continue
		}
		prov, ok := providers[r.AccountID]
		if !ok {
			return nil, &NoProviderError{AccountID: r.AccountID, RoleArn: r.Arn}
		}
		p := RolePair{RoleArn: r.Arn, ProviderArn: prov}
		if !seen[p] {
			seen[p] = true
			pairs = append(pairs, p)
		}
	}
	if len(pairs) == 0 {
		return nil, &NoRolesError{Unresolved: unresolved}
	}
	return pairs, nil
}

func groupEntitlements(in EntitlementInput) ([]RolePair, error) {
	if !appFilterHasOkta(in.Settings.AppFilter) {
		return nil, &NoRolesError{}
	}
	g, err := CompileGroupFilter(in.Settings.GroupFilter)
	if err != nil {
		return nil, errs.Wrap(errs.Invalid, "The app's Group Filter is invalid.", err)
	}
	var pairs []RolePair
	seen := map[RolePair]bool{}
	for _, name := range in.GroupNames {
		acct, role, ok := g.Match(name)
		if !ok || !reRoleName.MatchString(role) || (acct != "" && !reAccountID.MatchString(acct)) {
			continue
		}
		p, err := ParseRolePair(RenderRoleValue(in.Settings.RoleValuePattern, acct, role))
		if err != nil {
			continue // a group whose captures do not make ARNs grants nothing
		}
		if !seen[p] {
			seen[p] = true
			pairs = append(pairs, p)
		}
	}
	if len(pairs) == 0 {
		return nil, &NoRolesError{}
	}
	return pairs, nil
}

// appFilterHasOkta: Gatehouse's own groups are the "okta" source; other
// sources (active_directory, ldap, …) have no groups in Gatehouse. An empty
// filter means all sources.
func appFilterHasOkta(f string) bool {
	if strings.TrimSpace(f) == "" {
		return true
	}
	for _, s := range strings.Split(f, ",") {
		if strings.TrimSpace(s) == "okta" {
			return true
		}
	}
	return false
}

var reRoleName = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)

func providersByAccount(s Settings) (map[string]string, error) {
	out := map[string]string{}
	for _, a := range s.IdentityProviderArns {
		p, err := ParseProviderArn(a)
		if err != nil {
			return nil, errs.Wrap(errs.Invalid, "The app's Identity Provider ARN is invalid.", err)
		}
		if _, dup := out[p.AccountID]; !dup {
			out[p.AccountID] = a
		}
	}
	return out, nil
}

// roleIndex resolves assignment role values against imported roles.
type roleIndex struct {
	roles []Role
}

func newRoleIndex(roles []Role) roleIndex { return roleIndex{roles: roles} }

var reAccountValue = regexp.MustCompile(`^(?:\[([^\]]+)\]|(\d{12}))\s+--\s+(.+)$`)

// resolve finds the role a value names: a role ARN, "<account> -- <name>",
// "[<alias>] -- <name>", or a bare name (which must be unique across the
// imported accounts).
func (x roleIndex) resolve(v string) (Role, error) {
	v = strings.TrimSpace(v)
	if strings.HasPrefix(v, "arn:") {
		for _, r := range x.roles {
			if r.Arn == v {
				return r, nil
			}
		}
		return Role{}, fmt.Errorf("role %s is not among the imported roles", v)
	}
	if m := reAccountValue.FindStringSubmatch(v); m != nil {
		alias, acct, name := m[1], m[2], strings.TrimSpace(m[3])
		for _, r := range x.roles {
			if r.Name == name && ((acct != "" && r.AccountID == acct) || (alias != "" && (r.AccountAlias == alias || r.AccountID == alias))) {
				return r, nil
			}
		}
		return Role{}, fmt.Errorf("role %q is not among the imported roles", v)
	}
	var found []Role
	for _, r := range x.roles {
		if r.Name == v {
			found = append(found, r)
		}
	}
	switch len(found) {
	case 0:
		return Role{}, fmt.Errorf("role %q is not among the imported roles", v)
	case 1:
		return found[0], nil
	}
	choices := make([]string, len(found))
	for i, r := range found {
		choices[i] = strconv.Quote(r.Label(true))
	}
	return Role{}, &ambiguousRoleError{msg: fmt.Sprintf("role name %q exists in several accounts; choose %s", v, strings.Join(choices, " or "))}
}

// ambiguousRoleError: a bare role name found in several accounts.
type ambiguousRoleError struct{ msg string }

func (e *ambiguousRoleError) Error() string { return e.msg }
