package awsapp

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/integration/amazonconnect"
	"github.com/gatehouse/gatehouse/internal/provisioning"
)

// profilesTimeout bounds reading an instance's profiles for a page or an
// API call (the Connect limiter may make it wait).
const profilesTimeout = 20 * time.Second

// Assignment profile attributes that choose a person's Connect profiles.
const (
	attrSecurityProfiles = "connectSecurityProfiles"
	attrRoutingProfile   = "connectRoutingProfile"
)

// InstanceProfiles are a Connect instance's security and routing profiles.
type InstanceProfiles struct {
	Security []amazonconnect.Profile
	Routing  []amazonconnect.Profile
}

// Names lists profile names, sorted.
func Names(ps []amazonconnect.Profile) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	sort.Slice(out, func(i, j int) bool { return strings.ToLower(out[i]) < strings.ToLower(out[j]) })
	return out
}

// ConnectProfiles reads the security and routing profiles of an Amazon
// Connect app's instance with ListSecurityProfiles and ListRoutingProfiles
// (every page, the app's stored credentials), reusing what was read in
// the last minute. It needs the API integration's credentials; without
// them it is an Invalid error that says so.
func (in *Integration) ConnectProfiles(ctx context.Context, appID string) (*InstanceProfiles, error) {
	a, err := in.Catalog.Store.App(ctx, appID)
	if err != nil {
		return nil, err
	}
	if a.Name != Connect {
		return nil, errs.InvalidFields("Only Amazon Connect apps have Connect profiles.")
	}
	p, err := in.Provisioning(ctx, appID)
	if err != nil {
		return nil, err
	}
	cs, err := in.connectClient(ctx, a, p)
	if err != nil {
		return nil, unwrapPermanent(err)
	}
	ctx, cancel := context.WithTimeout(ctx, profilesTimeout)
	defer cancel()
	pr, err := in.profiles(ctx, cs, false)
	if err != nil {
		return nil, err
	}
	return &InstanceProfiles{Security: pr.security, Routing: pr.routing}, nil
}

// ConnectProfileOptions lists the names of an app's Connect security and
// routing profiles for the console's pickers.
func (in *Integration) ConnectProfileOptions(ctx context.Context, appID string) (security, routing []string, err error) {
	pr, err := in.ConnectProfiles(ctx, appID)
	if err != nil {
		return nil, nil, err
	}
	return Names(pr.Security), Names(pr.Routing), nil
}

// profileChoice is where a person's Connect profiles come from.
type profileChoice struct {
	security                  []string
	securityFrom, routingFrom string
	routing                   string
}

// profileChoice picks a person's Connect profiles. The security profiles
// and the routing profile are chosen separately, each from the first of:
// the person's own assignment, the group assignments that reach them in
// priority order (the group rules), the app's defaults.
func (in *Integration) profileChoice(ctx context.Context, a *catalog.App, p ProvisioningSettings, userID string, asg *catalog.Assignment) (profileChoice, error) {
	c := profileChoice{security: p.SecurityProfiles, securityFrom: "app default", routing: p.RoutingProfile, routingFrom: "app default"}
	type source struct {
		profile map[string]any
		from    string
	}
	var sources []source
	if asg != nil && asg.Scope == catalog.ScopeUser {
		sources = append(sources, source{asg.Profile, "assignment"})
	}
	grants, err := in.Catalog.Store.GroupGrants(ctx, a.ID, []string{userID})
	if err != nil {
		return c, err
	}
	for _, g := range grants {
		from := "group " + g.GroupID
		if grp, err := in.Directory.Store.Group(ctx, g.GroupID); err == nil {
			from = "group " + grp.Name
		}
		sources = append(sources, source{g.Profile, from})
	}
	secSet, rtSet := false, false
	for _, s := range sources {
		if v := stringsOf(s.profile[attrSecurityProfiles]); !secSet && len(v) > 0 {
			c.security, c.securityFrom, secSet = v, s.from, true
		}
		if v, ok := s.profile[attrRoutingProfile].(string); !rtSet && ok && v != "" {
			c.routing, c.routingFrom, rtSet = v, s.from, true
		}
	}
	return c, nil
}

// profilesKey carries an app's instance profiles, read before a catalog
// transaction, to the assignment validator that runs inside it.
type profilesKey struct{ appID string }

// PrepareProfileValidation implements catalog.ProfilePreparer: when a new
// assignment profile of an Amazon Connect app names Connect profiles, it
// reads the instance's profiles before the assignment's transaction
// begins (no AWS call is made while the database is locked), so that
// ValidateAssignmentProfile can check the names. A failure to read them
// is reported beside the profile fields.
func (in *Integration) PrepareProfileValidation(ctx context.Context, a *catalog.App, profile map[string]any) (context.Context, error) {
	if a.Name != Connect || (len(stringsOf(profile[attrSecurityProfiles])) == 0 && stringsOf(profile[attrRoutingProfile]) == nil) {
		return ctx, nil
	}
	pr, err := in.ConnectProfiles(ctx, a.ID)
	return context.WithValue(ctx, profilesKey{a.ID}, preparedProfiles{pr, err}), nil
}

type preparedProfiles struct {
	p   *InstanceProfiles
	err error
}

// checkProfileNames checks the Connect profiles an assignment names
// against the instance (read by PrepareProfileValidation).
func checkProfileNames(ctx context.Context, a *catalog.App, profile map[string]any) []errs.FieldError {
	var fe []errs.FieldError
	sec, secOK := profile[attrSecurityProfiles]
	rt, rtOK := profile[attrRoutingProfile]
	secNames := stringsOf(sec)
	rtName, _ := rt.(string)
	if secOK && sec != nil {
		if _, isArr := sec.([]any); !isArr && len(secNames) == 0 {
			if _, isStrs := sec.([]string); !isStrs {
				fe = append(fe, errs.Field(attrSecurityProfiles, "Security profiles are a list of profile names."))
			}
		}
		if len(secNames) > amazonconnect.MaxSecurityProfiles {
			fe = append(fe, errs.Field(attrSecurityProfiles, "Choose at most %d security profiles.", amazonconnect.MaxSecurityProfiles))
		}
	}
	if rtOK && rt != nil {
		if _, ok := rt.(string); !ok {
			fe = append(fe, errs.Field(attrRoutingProfile, "The routing profile is one profile name."))
		}
	}
	if len(secNames) == 0 && rtName == "" {
		return fe
	}
	pp, ok := ctx.Value(profilesKey{a.ID}).(preparedProfiles)
	if !ok {
		return fe // the stored profile, checked when it was set
	}
	if pp.err != nil {
		msg := "Gatehouse checks Connect profile names against the instance and could not read its profiles: " + errText(pp.err)
		if len(secNames) > 0 {
			fe = append(fe, errs.Field(attrSecurityProfiles, "%s", msg))
		}
		if rtName != "" {
			fe = append(fe, errs.Field(attrRoutingProfile, "%s", msg))
		}
		return fe
	}
	for _, n := range secNames {
		if _, err := amazonconnect.ProfileIDs(pp.p.Security, n); err != nil {
			fe = append(fe, errs.Field(attrSecurityProfiles, "%s", errText(err)))
		}
	}
	if rtName != "" {
		if _, err := amazonconnect.ProfileIDs(pp.p.Routing, rtName); err != nil {
			fe = append(fe, errs.Field(attrRoutingProfile, "%s", errText(err)))
		}
	}
	return fe
}

// validateProfileSettings checks the app's default profiles and the
// deprovisioning fallback against the instance when any of them changed
// (prev is the stored settings).
func (in *Integration) validateProfileSettings(ctx context.Context, appID string, p, prev ProvisioningSettings) []errs.FieldError {
	var fe []errs.FieldError
	switch p.Deprovision {
	case DeprovisionDelete:
		p.FallbackSecurityProfile = ""
	case DeprovisionStrip:
		if strings.TrimSpace(p.FallbackSecurityProfile) == "" {
			fe = append(fe, errs.Field("fallbackSecurityProfile", "Choose the security profile Connect users keep when Gatehouse strips theirs (Connect requires one)."))
		}
	default:
		fe = append(fe, errs.Field("deprovision", "Deprovisioning must be %s or %s.", DeprovisionDelete, DeprovisionStrip))
	}
	changed := !sameStrings(p.SecurityProfiles, prev.SecurityProfiles) || p.RoutingProfile != prev.RoutingProfile ||
		(p.Deprovision == DeprovisionStrip && p.FallbackSecurityProfile != prev.FallbackSecurityProfile)
	if fe != nil || !changed || !p.APIIntegration {
		return fe
	}
	pr, err := in.ConnectProfiles(ctx, appID)
	if err != nil {
		return []errs.FieldError{errs.Field("securityProfiles", "Gatehouse checks profile names against the Connect instance and could not read its profiles: %s", errText(err))}
	}
	for _, n := range p.SecurityProfiles {
		if _, err := amazonconnect.ProfileIDs(pr.Security, n); err != nil {
			fe = append(fe, errs.Field("securityProfiles", "%s", errText(err)))
		}
	}
	if _, err := amazonconnect.ProfileIDs(pr.Routing, p.RoutingProfile); err != nil {
		fe = append(fe, errs.Field("routingProfile", "%s", errText(err)))
	}
	if p.Deprovision == DeprovisionStrip {
		if _, err := amazonconnect.ProfileIDs(pr.Security, p.FallbackSecurityProfile); err != nil {
			fe = append(fe, errs.Field("fallbackSecurityProfile", "%s", errText(err)))
		}
	}
	return fe
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// unwrapPermanent turns the job engine's permanent wrapper of a set-up
// error back into the error itself, for callers outside jobs.
func unwrapPermanent(err error) error {
	var p *provisioning.PermanentError
	if errors.As(err, &p) {
		return p.Err
	}
	return err
}
