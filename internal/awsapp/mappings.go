package awsapp

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/expr"
	"github.com/gatehouse/gatehouse/internal/integration/amazonconnect"
)

// Push statuses of an attribute mapping, as Okta's Profile Mappings API
// names them: PUSH sets the attribute when Gatehouse creates the Connect
// user and on every update; DONT_PUSH only when it creates the user.
const (
	Push     = "PUSH"
	DontPush = "DONT_PUSH"
)

// PushStatus is the push status of one mapped attribute.
func (p ProvisioningSettings) PushStatus(attr string) string {
	if slices.Contains(p.DontPush, attr) {
		return DontPush
	}
	return Push
}

// isMapped reports whether attr is a Connect attribute a mapping may set.
func isMapped(attr string) bool { return slices.Contains(MappedAttributes, attr) }

// validateMappings checks the attribute mappings and their push statuses:
// every key a Connect attribute, every expression compiling (the message
// carries the expression's line:column). Empty expressions are removed.
func (in *Integration) validateMappings(p *ProvisioningSettings) []errs.FieldError {
	var fe []errs.FieldError
	keys := make([]string, 0, len(p.Mappings))
	for k := range p.Mappings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := p.Mappings[k]
		if !isMapped(k) {
			fe = append(fe, errs.Field("mappings."+k, "%s is not an Amazon Connect user attribute (%s).", k, strings.Join(MappedAttributes, ", ")))
			continue
		}
		if strings.TrimSpace(v) == "" {
			delete(p.Mappings, k)
			continue
		}
		if _, err := in.Expr.Compile(v); err != nil {
			fe = append(fe, errs.Field("mappings."+k, "Invalid expression: %v.", err))
		}
	}
	seen := map[string]bool{}
	var dont []string
	for _, k := range p.DontPush {
		if !isMapped(k) {
			fe = append(fe, errs.Field("dontPush", "%s is not an Amazon Connect user attribute (%s).", k, strings.Join(MappedAttributes, ", ")))
			continue
		}
		if !seen[k] && p.Mappings[k] != "" {
			dont = append(dont, k)
		}
		seen[k] = true
	}
	sort.Strings(dont)
	p.DontPush = dont
	return fe
}

// field is the identity information field a mapped attribute sets.
func field(info *amazonconnect.IdentityInfo, attr string) *string {
	switch attr {
	case "FirstName":
		return &info.FirstName
	case "LastName":
		return &info.LastName
	case "Email":
		return &info.Email
	case "SecondaryEmail":
		return &info.SecondaryEmail
	case "Mobile":
		return &info.Mobile
	}
	return nil
}

// identityOf evaluates the attribute mappings for a person. It returns the
// identity information and, by attribute, the message of each expression
// that failed.
func (in *Integration) identityOf(mappings map[string]string, env expr.Env) (amazonconnect.IdentityInfo, map[string]string) {
	var info amazonconnect.IdentityInfo
	failed := map[string]string{}
	for _, attr := range MappedAttributes {
		src := mappings[attr]
		if src == "" {
			continue
		}
		prog, err := in.Expr.Compile(src)
		if err == nil {
			*field(&info, attr), err = prog.String(env)
		}
		if err != nil {
			failed[attr] = err.Error()
		}
	}
	return info, failed
}

// keepDontPush keeps the current value of every DONT_PUSH attribute: an
// update never changes what only the creation sets.
func keepDontPush(p ProvisioningSettings, want amazonconnect.IdentityInfo, cur amazonconnect.IdentityInfo) amazonconnect.IdentityInfo {
	for _, attr := range p.DontPush {
		if f := field(&want, attr); f != nil {
			*f = *field(&cur, attr)
		}
	}
	return want
}

// PreviewAttribute is one attribute of a preview.
type PreviewAttribute struct {
	Attribute  string `json:"attribute"`
	Expression string `json:"expression"`
	PushStatus string `json:"pushStatus"`
	Value      string `json:"value"`
	// Error is the expression's error for this person, if it failed.
	Error string `json:"error,omitempty"`
}

// Preview is what Gatehouse would send to Amazon Connect for one person.
type Preview struct {
	UserID      string `json:"userId"`
	Login       string `json:"login"`
	DisplayName string `json:"displayName"`
	// Assigned says whether the person has the app (Scope says how).
	Assigned bool          `json:"assigned"`
	Scope    catalog.Scope `json:"scope,omitempty"`
	// UserName is the Connect Username: the app username of the
	// assignment (or, without one, what the app's username template gives).
	UserName   string             `json:"userName"`
	Attributes []PreviewAttribute `json:"attributes"`
	PhoneType  string             `json:"phoneType"`
	// SecurityProfiles and RoutingProfile are the profile names chosen, and
	// where they come from ("assignment", "group <name>", "app default").
	SecurityProfiles     []string `json:"securityProfiles"`
	SecurityProfilesFrom string   `json:"securityProfilesFrom"`
	RoutingProfile       string   `json:"routingProfile"`
	RoutingProfileFrom   string   `json:"routingProfileFrom"`
	// Problems are what Amazon Connect would refuse (from the user rules,
	// and profile names the instance does not have, when its profiles could
	// be read), in words for an admin.
	Problems []string `json:"problems,omitempty"`
	// Sent says whether Gatehouse would send this user to Connect now;
	// Reason says why not.
	Sent   bool   `json:"sent"`
	Reason string `json:"reason,omitempty"`
}

// Preview computes the Connect user Gatehouse would create for a person
// (given by id or login) with the app's attribute mappings, or with
// mappings when it is not nil (unsaved edits; empty expressions unmap).
// Expression errors are part of the preview, not errors of the call; a
// mapping that does not compile is a field error.
func (in *Integration) Preview(ctx context.Context, appID, person string, mappings map[string]string, dontPush []string) (*Preview, error) {
	a, err := in.Catalog.Store.App(ctx, appID)
	if err != nil {
		return nil, err
	}
	if a.Name != Connect {
		return nil, errs.InvalidFields("Attribute mappings are available for Amazon Connect apps.")
	}
	p, err := in.Provisioning(ctx, appID)
	if err != nil {
		return nil, err
	}
	if mappings != nil {
		p.Mappings, p.DontPush = map[string]string{}, dontPush
		for k, v := range mappings {
			p.Mappings[k] = v
		}
		if fe := in.validateMappings(&p); fe != nil {
			return nil, errs.InvalidFields("Api validation failed: mappings", fe...)
		}
	}
	if strings.TrimSpace(person) == "" {
		return nil, errs.InvalidFields("Choose a person.", errs.Field("person", "Enter the username of the person to preview."))
	}
	u, err := in.Directory.Store.User(ctx, strings.TrimSpace(person))
	if errs.Is(err, errs.NotFound) {
		return nil, errs.InvalidFields("No such person.", errs.Field("person", "No person has the username %q.", strings.TrimSpace(person)))
	}
	if err != nil {
		return nil, err
	}
	pv := &Preview{UserID: u.ID, Login: u.Login(), DisplayName: u.DisplayName(), PhoneType: p.PhoneType}
	asg, err := in.Catalog.Assignment(ctx, a.ID, u.ID)
	switch {
	case err == nil:
		pv.Assigned, pv.Scope, pv.UserName = true, asg.Scope, asg.UserName
	case errs.Is(err, errs.NotFound):
		asg = &catalog.Assignment{AppID: a.ID, UserID: u.ID, Profile: map[string]any{}}
		asg.UserName = in.Catalog.UserName(a, u, asg.Profile)
		pv.UserName = asg.UserName
	default:
		return nil, err
	}
	info, failed := in.identityOf(p.Mappings, expr.Env{User: catalog.UserEnv(u), AppUser: asg.Profile, App: a.Settings.App})
	for _, attr := range MappedAttributes {
		pv.Attributes = append(pv.Attributes, PreviewAttribute{Attribute: attr, Expression: p.Mappings[attr], PushStatus: p.PushStatus(attr),
			Error: failed[attr], Value: *field(&info, attr)})
	}
	choice, err := in.profileChoice(ctx, a, p, u.ID, asg)
	if err != nil {
		return nil, err
	}
	pv.SecurityProfiles, pv.SecurityProfilesFrom = choice.security, choice.securityFrom
	pv.RoutingProfile, pv.RoutingProfileFrom = choice.routing, choice.routingFrom
	for attr, msg := range failed {
		pv.Problems = append(pv.Problems, fmt.Sprintf("%s: %s", attr, msg))
	}
	spec := amazonconnect.UserSpec{Username: pv.UserName, IdentityInfo: info, PhoneConfig: amazonconnect.PhoneConfig{PhoneType: p.PhoneType},
		// Stand-ins: the rules only count the profiles; their names are
		// checked against the instance below.
		SecurityProfileIDs: choice.security, RoutingProfileID: choice.routing}
	for _, f := range spec.Normalize().Validate() {
		if _, bad := failed[attrOfField(f.Field)]; bad {
			continue // already reported as the expression's error
		}
		pv.Problems = append(pv.Problems, f.Message)
	}
	if pr, perr := in.ConnectProfiles(ctx, a.ID); perr == nil {
		if _, err := amazonconnect.ProfileIDs(pr.Security, choice.security...); err != nil {
			pv.Problems = append(pv.Problems, "Security profiles: "+errText(err))
		}
		if _, err := amazonconnect.ProfileIDs(pr.Routing, choice.routing); err != nil {
			pv.Problems = append(pv.Problems, "Routing profile: "+errText(err))
		}
	}
	sort.Strings(pv.Problems)
	switch {
	case !p.APIIntegration:
		pv.Reason = "The API integration is off: Gatehouse sends nothing to Amazon Connect."
	case a.Status != catalog.Active:
		pv.Reason = "The app is inactive: Gatehouse sends nothing to Amazon Connect."
	case !pv.Assigned:
		pv.Reason = fmt.Sprintf("%s is not assigned to %s: Gatehouse would not create their Connect user.", u.DisplayName(), a.Label)
	case !statusProvisioned(u.Status):
		pv.Reason = fmt.Sprintf("%s is %s: Gatehouse does not keep a Connect user for them.", u.DisplayName(), u.Status)
	case len(pv.Problems) > 0:
		pv.Reason = "Amazon Connect would refuse this user; fix the problems listed."
	default:
		pv.Sent = true
	}
	return pv, nil
}

// attrOfField maps a Connect field name of UserSpec.Validate to the mapped
// attribute that feeds it.
func attrOfField(field string) string {
	switch field {
	case "identityInfo.firstName":
		return "FirstName"
	case "identityInfo.lastName":
		return "LastName"
	case "identityInfo.email":
		return "Email"
	case "identityInfo.secondaryEmail":
		return "SecondaryEmail"
	case "identityInfo.mobile":
		return "Mobile"
	}
	return ""
}

// errText is an error's message for an admin (the errs message when there
// is one).
func errText(err error) string {
	if e, ok := errs.As(err); ok {
		return e.Msg
	}
	return err.Error()
}

// statusProvisioned reports whether a person in this status keeps a
// Connect user.
func statusProvisioned(s directory.Status) bool {
	return s != directory.Deprovisioned && s != directory.Suspended && s != directory.Staged
}
