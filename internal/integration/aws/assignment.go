package aws

import (
	"errors"
	"strings"

	"github.com/gatehouse/gatehouse/internal/errs"
)

// ValidateAssignment checks an assignment of an AWS app before it is saved:
// profile.role and every profile.samlRoles value must name an imported role
// (and one whose account has an identity provider ARN), and the app
// username must be usable as RoleSessionName (and, for Connect, as a Connect
// username). Field names are "role", "samlRoles" and "userName".
func ValidateAssignment(s Settings, imported []Role, profile map[string]any, userName string, connect bool) []FieldError {
	var out []FieldError
	p, err := ParseProfile(profile)
	if err != nil {
		if e, ok := errs.As(err); ok {
			out = append(out, e.Fields...)
		}
	}
	providers, _ := providersByAccount(s)
	idx := newRoleIndex(imported)
	check := func(field, v string) {
		if len(imported) == 0 {
			out = append(out, errs.Field(field, "No IAM roles are imported yet; set the Access Key and Secret Key under Provisioning, test them, and import the roles, then choose %q again.", v))
			return
		}
		r, err := idx.resolve(v)
		var amb *ambiguousRoleError
		switch {
		case errors.As(err, &amb):
			out = append(out, errs.Field(field, "%s.", capitalize(err.Error())))
			return
		case err != nil:
			out = append(out, errs.Field(field, "%s. Choose one of the imported roles, or import the roles again if it was created recently.", capitalize(err.Error())))
			return
		}
		if _, ok := providers[r.AccountID]; !ok {
			out = append(out, errs.Field(field, "Role %s is in account %s, which has no Identity Provider ARN in the app's sign-on settings; add that account's provider ARN first.", r.Name, r.AccountID))
		}
	}
	if p.Role != "" {
		check("role", p.Role)
	}
	for _, v := range p.SAMLRoles {
		if v = strings.TrimSpace(v); v == "" {
			out = append(out, errs.Field("samlRoles", "Remove the empty role value."))
			continue
		}
		check("samlRoles", v)
	}
	if err := CheckRoleSessionName(userName, connect); err != nil {
		var sn *SessionNameError
		if errors.As(err, &sn) {
			out = append(out, errs.Field("userName", "The app username %q is sent to AWS as RoleSessionName%s: %s. Change the username or the app's username format.",
				userName, connectSuffix(connect), sn.Rule))
		}
	}
	return out
}

func connectSuffix(connect bool) string {
	if connect {
		return " and must equal the Amazon Connect username"
	}
	return ""
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
