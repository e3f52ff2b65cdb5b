// Package awsapp connects the catalog's Amazon Web Services and Amazon
// Connect apps to the AWS integration: it validates their settings and
// assignments when an administrator saves them, keeps the IAM roles
// imported with the app's API credentials, computes the AWS attributes of
// each assertion, and provisions Amazon Connect users through durable
// jobs enqueued in the same transaction as the change that needs them.
package awsapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/expr"
	"github.com/gatehouse/gatehouse/internal/integration/amazonconnect"
	ghaws "github.com/gatehouse/gatehouse/internal/integration/aws"
	"github.com/gatehouse/gatehouse/internal/provisioning"
)

// Template names this package serves.
const (
	AWS     = "amazon_aws"
	Connect = "amazon_connect"
)

// IsAWSApp reports whether an app is an AWS or Amazon Connect app.
func IsAWSApp(name string) bool { return name == AWS || name == Connect }

// Data stores per-app documents (sqlstore.AppDataStore implements it).
type Data interface {
	Get(ctx context.Context, appID, kind string) ([]byte, time.Time, error)
	Put(ctx context.Context, appID, kind string, body []byte, at time.Time, ev *audit.Event) error
}

// Kinds of app data.
const (
	dataRoles        = "aws.roles"
	dataProvisioning = "connect.provisioning"
	dataProfiles     = "connect.profiles"
)

// Integration is the AWS and Amazon Connect integration.
type Integration struct {
	Catalog   *catalog.Service
	Directory *directory.Service
	Data      Data
	Queue     *provisioning.Queue
	Expr      *expr.Engine
	Events    audit.Builder
	// Log records events that change nothing else (a credential test).
	Log interface {
		Append(ctx context.Context, ev audit.Event) error
	}
	Now func() time.Time
	// Endpoint replaces the AWS endpoints: only for the Gatehouse AWS
	// sandbox and tests.
	Endpoint string
	// Limiter is shared by every Connect call of this node (2/s, burst 5 by
	// default, per account and region). An app whose provisioning settings
	// state a raised API rate uses a limiter of that rate instead.
	Limiter *amazonconnect.Limiter

	mu       sync.Mutex
	limiters map[string]*amazonconnect.Limiter // by rate/burst
	cache    profileCache                      // instances' security and routing profiles
}

// Settings parses an app's settings.app.
func Settings(a *catalog.App) (ghaws.Settings, error) {
	return ghaws.ParseSettings(a.Settings.App)
}

// ValidateSettings implements catalog.SettingsValidator.
func (in *Integration) ValidateSettings(ctx context.Context, a *catalog.App) []errs.FieldError {
	s, err := Settings(a)
	if err != nil {
		if e, ok := errs.As(err); ok {
			return prefixed(e.Fields)
		}
		return []errs.FieldError{{Field: "settings.app", Message: err.Error()}}
	}
	return prefixed(ghaws.Validate(s, a.Name == Connect))
}

func prefixed(fe []errs.FieldError) []errs.FieldError {
	out := make([]errs.FieldError, len(fe))
	for i, f := range fe {
		if !strings.HasPrefix(f.Field, "settings.") {
			f.Field = "settings.app." + f.Field
		}
		out[i] = f
	}
	return out
}

// ACS is the AWS sign-in endpoint the app's assertions go to.
func (in *Integration) ACS(a *catalog.App) string {
	s, err := Settings(a)
	if err != nil {
		return ""
	}
	return ghaws.ACSURL(s)
}

// DefaultRelayState is the relay state the app should use (the Connect
// federation URL for Amazon Connect).
func (in *Integration) DefaultRelayState(a *catalog.App) string {
	s, err := Settings(a)
	if err != nil {
		return ""
	}
	return ghaws.DefaultRelayState(s)
}

// Roles returns the roles imported for an app.
func (in *Integration) Roles(ctx context.Context, appID string) ([]ghaws.Role, time.Time, error) {
	b, at, err := in.Data.Get(ctx, appID, dataRoles)
	if errs.Is(err, errs.NotFound) {
		return nil, time.Time{}, nil
	}
	if err != nil {
		return nil, time.Time{}, err
	}
	var roles []ghaws.Role
	if err := json.Unmarshal(b, &roles); err != nil {
		return nil, time.Time{}, fmt.Errorf("imported roles of %s: %w", appID, err)
	}
	return roles, at, nil
}

// RoleOptions lists the values the assignment's Role and SAML User Roles
// accept.
func (in *Integration) RoleOptions(ctx context.Context, appID string) ([]string, error) {
	roles, _, err := in.Roles(ctx, appID)
	if err != nil {
		return nil, err
	}
	accounts := map[string]bool{}
	for _, r := range roles {
		accounts[r.AccountID] = true
	}
	out := make([]string, 0, len(roles))
	for _, r := range roles {
		out = append(out, r.Label(len(accounts) > 1))
	}
	sort.Strings(out)
	return out, nil
}

// ValidateAssignmentProfile implements catalog.ProfileValidator: role and
// samlRoles must name imported roles; Connect profile choices must be
// known names or ids.
func (in *Integration) ValidateAssignmentProfile(ctx context.Context, a *catalog.App, scope catalog.Scope, profile map[string]any) error {
	s, err := Settings(a)
	if err != nil {
		return err
	}
	roles, _, err := in.Roles(ctx, a.ID)
	if err != nil {
		return err
	}
	rolesProfile := map[string]any{}
	for _, k := range []string{"role", "samlRoles"} {
		if v, ok := profile[k]; ok {
			rolesProfile[k] = v
		}
	}
	var fe []errs.FieldError
	if len(rolesProfile) > 0 && !s.UseGroupMapping {
		for _, f := range ghaws.ValidateAssignment(s, roles, rolesProfile, "", false) {
			if f.Field == "userName" {
				continue
			}
			fe = append(fe, f)
		}
	}
	for k := range profile {
		switch k {
		case "role", "samlRoles":
		case attrSecurityProfiles, attrRoutingProfile:
			if a.Name != Connect {
				fe = append(fe, errs.Field(k, "%s is an attribute of Amazon Connect assignments only.", k))
			}
		default:
			fe = append(fe, errs.Field(k, "%s is not an attribute of this app's assignments (use role, samlRoles, connectSecurityProfiles, connectRoutingProfile).", k))
		}
	}
	if a.Name == Connect {
		fe = append(fe, checkProfileNames(ctx, a, profile)...)
	}
	if fe != nil {
		return errs.InvalidFields("Api validation failed: profile", fe...)
	}
	return nil
}

// CheckUserName checks an app username as RoleSessionName (and as a
// Connect username for Connect apps).
func CheckUserName(a *catalog.App, userName string) error {
	if err := ghaws.CheckRoleSessionName(userName, a.Name == Connect); err != nil {
		var sn *ghaws.SessionNameError
		msg := err.Error()
		if errors.As(err, &sn) {
			msg = fmt.Sprintf("The app username %q cannot be used with AWS: %s", userName, sn.Rule)
		}
		return errs.InvalidFields("Api validation failed: credentials.userName", errs.Field("credentials.userName", "%s", msg))
	}
	return nil
}

// Attributes computes the AWS attributes for a person's assertion.
func (in *Integration) Attributes(ctx context.Context, a *catalog.App, u *directory.User, asg *catalog.Assignment, groups []*directory.Group) ([]ghaws.Attribute, error) {
	s, err := Settings(a)
	if err != nil {
		return nil, err
	}
	roles, _, err := in.Roles(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	ein := ghaws.EntitlementInput{Settings: s, Roles: roles}
	for _, g := range groups {
		ein.GroupNames = append(ein.GroupNames, g.Name)
	}
	if asg.Scope == catalog.ScopeUser {
		p, err := ghaws.ParseProfile(asg.Profile)
		if err != nil {
			return nil, err
		}
		ein.User = &p
	}
	// Group assignments reaching the person, highest priority (lowest
	// number) first: one query, the grants the catalog already orders.
	grants, err := in.Catalog.Store.GroupGrants(ctx, a.ID, []string{u.ID})
	if err != nil {
		return nil, err
	}
	for _, g := range grants {
		if p, err := ghaws.ParseProfile(g.Profile); err == nil {
			ein.Groups = append(ein.Groups, p)
		}
	}
	pairs, err := ghaws.Entitlements(ein)
	if err != nil {
		return nil, err
	}
	return ghaws.Attributes(ghaws.AttributeInput{Settings: s, Connect: a.Name == Connect, Pairs: pairs, UserName: asg.UserName})
}

// credentials returns the app's stored API credentials.
func (in *Integration) credentials(ctx context.Context, a *catalog.App) (ghaws.Credentials, error) {
	ak, err := in.Catalog.AppSecret(ctx, a.ID, "accessKey")
	if err != nil {
		return ghaws.Credentials{}, err
	}
	sk, err := in.Catalog.AppSecret(ctx, a.ID, "secretKey")
	if err != nil {
		return ghaws.Credentials{}, err
	}
	if ak == "" {
		if v, ok := a.Settings.App["accessKey"].(string); ok {
			ak = v
		}
	}
	if ak == "" || sk == "" {
		return ghaws.Credentials{}, errs.InvalidFields("The API integration has no credentials.",
			errs.Field("settings.app.accessKey", "Enter the Access Key and Secret Key, then Test API Credentials."))
	}
	return ghaws.Credentials{AccessKeyID: ak, SecretAccessKey: sk}, nil
}

func (in *Integration) client(s ghaws.Settings) *ghaws.Client {
	return ghaws.NewClient(ghaws.ClientOptions{Region: ghaws.APIRegion(s), Endpoint: in.Endpoint})
}

// TestCredentials checks API credentials with AWS (STS GetCallerIdentity and
// IAM ListRoles). Empty keys mean the stored ones. AWS's own message is in
// the error.
func (in *Integration) TestCredentials(ctx context.Context, appID, accessKey, secretKey string) (ghaws.CallerIdentity, error) {
	a, err := in.Catalog.Store.App(ctx, appID)
	if err != nil {
		return ghaws.CallerIdentity{}, err
	}
	if !IsAWSApp(a.Name) {
		return ghaws.CallerIdentity{}, errs.InvalidFields("This app has no AWS API integration.")
	}
	s, err := Settings(a)
	if err != nil {
		return ghaws.CallerIdentity{}, err
	}
	creds := ghaws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}
	if accessKey == "" || secretKey == "" {
		if creds, err = in.credentials(ctx, a); err != nil {
			return ghaws.CallerIdentity{}, err
		}
	}
	id, err := in.client(s).TestCredentials(ctx, creds)
	ev := in.Events.New(ctx, "app.api.credentials.test", "Test API credentials", audit.Success, audit.AppTarget(a.ID, a.Name, a.Label))
	if err != nil {
		ev.Outcome = audit.Outcome{Result: audit.Failure, Reason: err.Error()}
	}
	if lerr := in.Log.Append(ctx, ev); lerr != nil && err == nil {
		return id, lerr
	}
	return id, err
}

// RefreshRoles imports the roles that trust the app's SAML providers
// ("Refresh Application Data").
func (in *Integration) RefreshRoles(ctx context.Context, appID string) ([]ghaws.Role, error) {
	a, err := in.Catalog.Store.App(ctx, appID)
	if err != nil {
		return nil, err
	}
	if !IsAWSApp(a.Name) {
		return nil, errs.InvalidFields("This app has no AWS API integration.")
	}
	s, err := Settings(a)
	if err != nil {
		return nil, err
	}
	if len(s.IdentityProviderArns) == 0 {
		return nil, errs.InvalidFields("The app has no Identity Provider ARN.",
			errs.Field("settings.app.identityProviderArn", "Paste the ARN of the IAM identity provider under Sign On → Advanced Sign-On Settings first."))
	}
	creds, err := in.credentials(ctx, a)
	if err != nil {
		return nil, err
	}
	roles, err := in.client(s).ImportRoles(ctx, creds, s.IdentityProviderArns)
	if err != nil {
		return nil, err
	}
	ev := in.Events.New(ctx, "app.aws.roles.import", fmt.Sprintf("Imported %d IAM roles", len(roles)), audit.Success, audit.AppTarget(a.ID, a.Name, a.Label))
	if err := in.Data.Put(ctx, a.ID, dataRoles, mustJSON(roles), in.Now(), &ev); err != nil {
		return nil, err
	}
	return roles, nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
