package aws

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/gatehouse/gatehouse/internal/errs"
)

// reOktaCapture finds Okta's named capture syntax (?{{name}}…).
var reOktaCapture = regexp.MustCompile(`\(\?\{\{([^{}]*)\}\}`)

var reCaptureName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// GroupFilter is a compiled groupFilter: Okta's regular expression over group
// names, with named captures accountid and role.
type GroupFilter struct {
	re         *regexp.Regexp
	hasAccount bool
	hasRole    bool
}

// TranslateGroupFilter rewrites Okta's (?{{name}}…) named captures into Go's
// (?P<name>…) and anchors the expression, since Okta matches the whole
// group name.
func TranslateGroupFilter(okta string) (string, error) {
	var bad error
	out := reOktaCapture.ReplaceAllStringFunc(okta, func(m string) string {
		name := reOktaCapture.FindStringSubmatch(m)[1]
		if !reCaptureName.MatchString(name) {
			bad = fmt.Errorf("capture name %q must be letters, digits or _ (as in (?{{role}}…))", name)
		}
		return "(?P<" + name + ">"
	})
	if bad != nil {
		return "", bad
	}
	return "^(?:" + out + ")$", nil
}

// CompileGroupFilter compiles an Okta groupFilter. It must compile and have
// the role capture.
func CompileGroupFilter(okta string) (*GroupFilter, error) {
	if strings.TrimSpace(okta) == "" {
		return nil, fmt.Errorf("Group Filter is empty; enter a regular expression such as aws_(?{{accountid}}\\d+)_(?{{role}}[a-zA-Z0-9+=,.@\\-_]+)")
	}
	expr, err := TranslateGroupFilter(okta)
	if err != nil {
		return nil, err
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("Group Filter is not a valid regular expression: %v", err)
	}
	g := &GroupFilter{re: re}
	for _, n := range re.SubexpNames() {
		switch n {
		case "accountid":
			g.hasAccount = true
		case "role":
			g.hasRole = true
		}
	}
	if !g.hasRole {
		return nil, fmt.Errorf("Group Filter needs a role capture, (?{{role}}…), that picks the role name out of the group name")
	}
	return g, nil
}

// HasAccountCapture reports whether the filter captures an account ID.
func (g *GroupFilter) HasAccountCapture() bool { return g.hasAccount }

// Match applies the filter to a group name.
func (g *GroupFilter) Match(group string) (accountID, role string, ok bool) {
	m := g.re.FindStringSubmatch(group)
	if m == nil {
		return "", "", false
	}
	for i, n := range g.re.SubexpNames() {
		switch n {
		case "accountid":
			accountID = m[i]
		case "role":
			role = m[i]
		}
	}
	return accountID, role, role != ""
}

// RenderRoleValue substitutes ${accountid} and ${role} in a roleValuePattern.
func RenderRoleValue(pattern, accountID, role string) string {
	return strings.NewReplacer("${accountid}", accountID, "${role}", role).Replace(pattern)
}

// ParseRolePair parses "role-arn,provider-arn" or "provider-arn,role-arn"
// (AWS accepts both orders in practice; Okta's pattern is provider-first).
func ParseRolePair(v string) (RolePair, error) {
	a, b, ok := strings.Cut(v, ",")
	if !ok || strings.Contains(b, ",") {
		return RolePair{}, fmt.Errorf("%q must be two ARNs separated by one comma: a saml-provider ARN and a role ARN", v)
	}
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	if _, err := ParseProviderArn(a); err == nil {
		if _, err := ParseRoleArn(b); err != nil {
			return RolePair{}, err
		}
		return RolePair{RoleArn: b, ProviderArn: a}, nil
	}
	if _, err := ParseRoleArn(a); err != nil {
		return RolePair{}, fmt.Errorf("%q has neither a saml-provider ARN nor a role ARN first", v)
	}
	if _, err := ParseProviderArn(b); err != nil {
		return RolePair{}, err
	}
	return RolePair{RoleArn: a, ProviderArn: b}, nil
}

func validateGroupMapping(s Settings, partition string) []FieldError {
	var out []FieldError
	g, err := CompileGroupFilter(s.GroupFilter)
	if err != nil {
		out = append(out, errs.Field("groupFilter", "%v.", err))
	}
	p := s.RoleValuePattern
	switch {
	case p == "":
		out = append(out, errs.Field("roleValuePattern", "Enter a Role Value Pattern such as arn:aws:iam::${accountid}:saml-provider/Gatehouse,arn:aws:iam::${accountid}:role/${role}."))
		return out
	case !strings.Contains(p, "${role}"):
		out = append(out, errs.Field("roleValuePattern", "Role Value Pattern must contain ${role}, where the role name captured from the group name goes."))
		return out
	}
	if g != nil && strings.Contains(p, "${accountid}") && !g.HasAccountCapture() {
		out = append(out, errs.Field("groupFilter", "Group Filter needs an account capture, (?{{accountid}}…), because the Role Value Pattern uses ${accountid}."))
	}
	pair, err := ParseRolePair(RenderRoleValue(p, "123456789012", "Sample"))
	if err != nil {
		out = append(out, errs.Field("roleValuePattern", "Role Value Pattern must give a saml-provider ARN and a role ARN separated by a comma once ${accountid} and ${role} are filled in: %v.", err))
		return out
	}
	rp, _ := ParseRoleArn(pair.RoleArn)
	if partition != "" && rp.Partition != partition {
		out = append(out, errs.Field("roleValuePattern", "Role Value Pattern uses partition %s, but the AWS Environment %s uses %s (e.g. arn:%s:iam::…).", rp.Partition, s.EnvironmentType, partition, partition))
	}
	return out
}
