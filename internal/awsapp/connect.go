package awsapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/expr"
	"github.com/gatehouse/gatehouse/internal/integration/amazonconnect"
	"github.com/gatehouse/gatehouse/internal/provisioning"
)

// Job kinds of the Amazon Connect integration.
const (
	// KindConnectSync brings one person's Connect user in line with their
	// assignment: create, update or remove. It reads the current state when
	// it runs, so coalesced and repeated jobs are harmless.
	KindConnectSync = "connect.sync_user"
	// KindConnectReconcile compares the app's assignments with the
	// instance's users and enqueues the syncs that fix drift.
	KindConnectReconcile = provisioning.KindConnectReconcile
)

// ProvisioningSettings are the app's "Provisioning" tab.
type ProvisioningSettings struct {
	// APIIntegration is "Enable API Integration".
	APIIntegration bool `json:"apiIntegration"`
	// To App.
	CreateUsers     bool `json:"createUsers"`
	UpdateUsers     bool `json:"updateUsers"`
	DeactivateUsers bool `json:"deactivateUsers"`
	// Mappings are the Attribute Mappings: Connect attribute → expression.
	Mappings map[string]string `json:"mappings"`
	// DontPush lists the mapped attributes set only when Gatehouse creates
	// the Connect user (Okta's pushStatus DONT_PUSH); the others are also
	// sent with every update (PUSH).
	DontPush []string `json:"dontPush,omitempty"`
	// Defaults when neither the assignment nor a group rule names any.
	SecurityProfiles []string `json:"securityProfiles"`
	RoutingProfile   string   `json:"routingProfile"`
	PhoneType        string   `json:"phoneType"`
	// Deprovision is what Deactivate Users does when a person loses the
	// app or is deactivated: DeprovisionDelete removes the Connect user,
	// DeprovisionStrip keeps it with only FallbackSecurityProfile (Connect
	// requires at least one security profile per user).
	Deprovision             string `json:"deprovision"`
	FallbackSecurityProfile string `json:"fallbackSecurityProfile,omitempty"`
	// APIRate and APIBurst state the account's Amazon Connect API rate
	// (requests a second, and burst) when AWS has raised it above the
	// documented default of 2/s with a burst of 5. Zero keeps the default.
	APIRate  float64 `json:"apiRate,omitempty"`
	APIBurst int     `json:"apiBurst,omitempty"`
}

// MappedAttributes are the Connect attributes a mapping may set, in the order
// the console shows them.
var MappedAttributes = []string{"FirstName", "LastName", "Email", "SecondaryEmail", "Mobile"}

// Deprovisioning choices (ProvisioningSettings.Deprovision).
const (
	DeprovisionDelete = "DELETE"
	DeprovisionStrip  = "STRIP_SECURITY_PROFILES"
)

// DefaultProvisioning are the settings of a new app.
func DefaultProvisioning() ProvisioningSettings {
	return ProvisioningSettings{
		Mappings:         map[string]string{"FirstName": "user.firstName", "LastName": "user.lastName"},
		SecurityProfiles: []string{"Agent"},
		RoutingProfile:   "Basic Routing Profile",
		PhoneType:        amazonconnect.SoftPhone,
		Deprovision:      DeprovisionDelete,
	}
}

// Provisioning returns an app's provisioning settings.
func (in *Integration) Provisioning(ctx context.Context, appID string) (ProvisioningSettings, error) {
	b, _, err := in.Data.Get(ctx, appID, dataProvisioning)
	if errs.Is(err, errs.NotFound) {
		return DefaultProvisioning(), nil
	}
	if err != nil {
		return ProvisioningSettings{}, err
	}
	return decodeProvisioning(b)
}

// decodeProvisioning reads stored settings over the defaults.
func decodeProvisioning(b []byte) (ProvisioningSettings, error) {
	p := DefaultProvisioning()
	if err := json.Unmarshal(b, &p); err != nil {
		return ProvisioningSettings{}, err
	}
	if p.Deprovision == "" {
		p.Deprovision = DeprovisionDelete
	}
	return p, nil
}

// SaveProvisioning validates and stores provisioning settings.
func (in *Integration) SaveProvisioning(ctx context.Context, appID string, p ProvisioningSettings) error {
	a, err := in.Catalog.Store.App(ctx, appID)
	if err != nil {
		return err
	}
	if a.Name != Connect {
		return errs.InvalidFields("Provisioning is available for Amazon Connect apps.")
	}
	prev, err := in.Provisioning(ctx, appID)
	if err != nil {
		return err
	}
	if p.Mappings == nil {
		p.Mappings = map[string]string{}
	}
	if p.Deprovision == "" {
		p.Deprovision = DeprovisionDelete
	}
	fe := in.validateMappings(&p)
	if p.PhoneType != amazonconnect.SoftPhone && p.PhoneType != amazonconnect.DeskPhone {
		fe = append(fe, errs.Field("phoneType", "Phone type must be SOFT_PHONE or DESK_PHONE."))
	}
	if len(p.SecurityProfiles) < 1 || len(p.SecurityProfiles) > 10 {
		fe = append(fe, errs.Field("securityProfiles", "Choose between 1 and 10 security profiles."))
	}
	if strings.TrimSpace(p.RoutingProfile) == "" {
		fe = append(fe, errs.Field("routingProfile", "Choose a routing profile."))
	}
	if p.APIRate < 0 || p.APIRate > 1000 {
		fe = append(fe, errs.Field("apiRate", "The Amazon Connect API rate must be between 0 (the default, 2 requests a second) and 1000 requests a second."))
	}
	if p.APIBurst < 0 || p.APIBurst > 10000 || (p.APIBurst > 0 && p.APIRate == 0) {
		fe = append(fe, errs.Field("apiBurst", "The API burst must be between 1 and 10000, with an API rate."))
	}
	if (p.CreateUsers || p.UpdateUsers || p.DeactivateUsers) && !p.APIIntegration {
		fe = append(fe, errs.Field("apiIntegration", "Enable API Integration before turning on To App features."))
	}
	if fe == nil {
		fe = in.validateProfileSettings(ctx, appID, p, prev)
	}
	if fe != nil {
		return errs.InvalidFields("Api validation failed: provisioning", fe...)
	}
	ev := in.Events.New(ctx, "application.provision.settings.update", "Update provisioning settings", audit.Success, audit.AppTarget(a.ID, a.Name, a.Label))
	return in.Data.Put(ctx, appID, dataProvisioning, mustJSON(p), in.Now(), &ev)
}

// syncPayload carries the username known when the job was enqueued, so a
// person who is gone can still be removed from Connect.
type syncPayload struct {
	UserName string `json:"userName"`
	// New hints that the person has no Connect user yet (a new assignment,
	// or one reconciliation found missing): the job then tries CreateUser
	// first, one call instead of a ListUsers scan and a create. The hint is
	// only an optimisation: a user that exists after all is linked.
	New bool `json:"new,omitempty"`
}

// jobTx is what the hooks need of a transaction.
type jobTx interface {
	provisioning.Enqueuer
	AppData(appID, kind string) ([]byte, error)
	// UserAppIDs lists the apps named name the user has, directly or
	// through a group, as the transaction has left them.
	UserAppIDs(userID, name string) ([]string, error)
}

func (in *Integration) provisioningIn(tx jobTx, appID string) (ProvisioningSettings, error) {
	b, err := tx.AppData(appID, dataProvisioning)
	if err != nil || b == nil {
		return DefaultProvisioning(), err
	}
	return decodeProvisioning(b)
}

func (in *Integration) enqueueSync(tx jobTx, appID, userID, userName string, isNew bool) error {
	return in.Queue.Enqueue(tx, &provisioning.Job{Kind: KindConnectSync, AppID: appID, UserID: userID,
		DedupeKey: "connect:" + appID + ":" + userID, Payload: mustJSON(syncPayload{UserName: userName, New: isNew})})
}

// OnCatalogChange is the catalog hook: it checks AWS app usernames and
// enqueues Connect syncs for assignment changes, in the change's
// transaction.
func (in *Integration) OnCatalogChange(ctx context.Context, tx catalog.Tx, c catalog.Change) error {
	if c.App == nil || !IsAWSApp(c.App.Name) {
		return nil
	}
	switch c.Kind {
	case catalog.UserAssigned, catalog.UserAssignmentUpdated:
		if c.UserAfter != nil {
			name := c.UserAfter.UserName
			if name == "" {
				// Computed from the app's username template.
				u, err := tx.UserForUpdate(c.UserID)
				if err != nil {
					return err
				}
				name = in.Catalog.UserName(c.App, u, c.UserAfter.Profile)
			}
			if err := CheckUserName(c.App, name); err != nil {
				return err
			}
		}
	}
	if c.App.Name != Connect {
		return nil
	}
	jt, ok := tx.(jobTx)
	if !ok {
		return fmt.Errorf("awsapp: transaction cannot enqueue jobs")
	}
	p, err := in.provisioningIn(jt, c.App.ID)
	if err != nil || !p.APIIntegration {
		return err
	}
	switch c.Kind {
	case catalog.UserAssigned, catalog.UserAssignmentUpdated, catalog.UserUnassigned:
		name := ""
		if c.UserAfter != nil {
			name = c.UserAfter.UserName
		} else if c.UserBefore != nil {
			name = c.UserBefore.UserName
		}
		return in.enqueueSync(jt, c.App.ID, c.UserID, name, c.Kind == catalog.UserAssigned)
	case catalog.GroupAssigned, catalog.GroupAssignmentUpdated, catalog.GroupUnassigned, catalog.AppActivated, catalog.AppDeactivated:
		// Many people at once: reconcile the whole app.
		return in.Queue.Enqueue(jt, &provisioning.Job{Kind: KindConnectReconcile, AppID: c.App.ID, DedupeKey: "connect-reconcile:" + c.App.ID})
	}
	return nil
}

// OnUserChange is the directory hook: a profile change, a deactivation, a
// deletion, or a group membership that gives or takes a Connect app (the
// directory runs this hook for every membership change) enqueues a sync.
func (in *Integration) OnUserChange(ctx context.Context, tx directory.Tx, before, after *directory.User) error {
	if before == nil {
		return nil // a new person has no assignments yet
	}
	u := before
	jt, ok := tx.(jobTx)
	if !ok {
		return fmt.Errorf("awsapp: transaction cannot enqueue jobs")
	}
	// The Connect apps the person had before this transaction (read
	// outside it) and has after it (read inside it): a membership just
	// added or removed, by an administrator or a group rule, changes them.
	apps, err := in.Catalog.AppsForUser(ctx, u.ID)
	if err != nil {
		return err
	}
	had := map[string]*catalog.App{}
	for _, a := range apps {
		if a.Name == Connect {
			had[a.ID] = a
		}
	}
	ids, err := jt.UserAppIDs(u.ID, Connect)
	if err != nil {
		return err
	}
	for id := range had {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	for _, appID := range ids {
		p, err := in.provisioningIn(jt, appID)
		if err != nil {
			return err
		}
		if !p.APIIntegration {
			continue
		}
		// The username of the assignment as it was: for a person who no
		// longer has the app, the one to remove; for one who has just got
		// it, it is computed when the job runs.
		name := ""
		if a := had[appID]; a != nil {
			if asg, err := in.Catalog.AssignmentOf(ctx, a, u); err == nil {
				name = asg.UserName
			}
		}
		if err := in.enqueueSync(jt, appID, u.ID, name, false); err != nil {
			return err
		}
	}
	return nil
}

// connectSession is a Connect client for one app with the throttling
// policy of its calls.
type connectSession struct {
	c        *amazonconnect.Client
	call     connectCall
	instance string // cache key of the instance's profiles
}

// connectClient returns a Connect client for an app.
func (in *Integration) connectClient(ctx context.Context, a *catalog.App, p ProvisioningSettings) (*connectSession, error) {
	s, err := Settings(a)
	if err != nil {
		return nil, provisioning.Permanent(err)
	}
	creds, err := in.credentials(ctx, a)
	if err != nil {
		// No credentials (Invalid) is for an administrator to fix; a
		// failed read of the stored ones (the database, a node shutting
		// down) is retried like any other transient failure.
		return nil, jobError(err)
	}
	lim, key := in.limiterFor(p), amazonconnect.Key(creds.AccessKeyID, s.Region)
	c, err := amazonconnect.New(amazonconnect.Options{Region: s.Region, InstanceID: s.InstanceID, AccessKeyID: creds.AccessKeyID,
		SecretAccessKey: creds.SecretAccessKey, Endpoint: in.Endpoint, Limiter: lim, LimitKey: key})
	if err != nil {
		return nil, provisioning.Permanent(err)
	}
	return &connectSession{c: c, call: connectCall{lim: lim, key: key},
		instance: a.ID + "|" + key + "|" + s.InstanceID}, nil
}

// jobError classifies a Connect error for the job engine.
func jobError(err error) error {
	var ce *amazonconnect.Error
	if errors.As(err, &ce) {
		if ce.Retryable() {
			return provisioning.Retryable(err, 0)
		}
		return provisioning.Permanent(err)
	}
	if errs.Is(err, errs.Invalid) {
		return provisioning.Permanent(err)
	}
	return provisioning.Retryable(err, 0)
}

// desired computes the Connect user a person should have, or nil when they
// should have none.
func (in *Integration) desired(ctx context.Context, a *catalog.App, p ProvisioningSettings, userID string, profiles *connectProfiles) (*amazonconnect.UserSpec, error) {
	if a.Status != catalog.Active {
		return nil, nil
	}
	u, err := in.Directory.Store.User(ctx, userID)
	if errs.Is(err, errs.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !statusProvisioned(u.Status) {
		return nil, nil
	}
	asg, err := in.Catalog.Assignment(ctx, a.ID, userID)
	if errs.Is(err, errs.NotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	info, failed := in.identityOf(p.Mappings, expr.Env{User: catalog.UserEnv(u), AppUser: asg.Profile, App: a.Settings.App})
	for _, attr := range MappedAttributes {
		if msg, bad := failed[attr]; bad {
			return nil, provisioning.Permanent(fmt.Errorf("attribute mapping %s: %s", attr, msg))
		}
	}
	spec := amazonconnect.UserSpec{Username: asg.UserName, IdentityInfo: info, PhoneConfig: amazonconnect.PhoneConfig{PhoneType: p.PhoneType}}
	choice, err := in.profileChoice(ctx, a, p, userID, asg)
	if err != nil {
		return nil, err
	}
	if spec.SecurityProfileIDs, err = amazonconnect.ProfileIDs(profiles.security, choice.security...); err != nil {
		return nil, provisioning.Permanent(fmt.Errorf("security profiles (%s): %w", choice.securityFrom, err))
	}
	ids, err := amazonconnect.ProfileIDs(profiles.routing, choice.routing)
	if err != nil {
		return nil, provisioning.Permanent(fmt.Errorf("routing profile (%s): %w", choice.routingFrom, err))
	}
	spec.RoutingProfileID = ids[0]
	return &spec, nil
}

func stringsOf(v any) []string {
	switch t := v.(type) {
	case []string:
		return t
	case []any:
		var out []string
		for _, x := range t {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case string:
		if t != "" {
			return []string{t}
		}
	}
	return nil
}

type connectProfiles struct {
	security, routing []amazonconnect.Profile
}

// profiles returns the instance's security and routing profiles, from the
// cache unless fresh is set.
func (in *Integration) profiles(ctx context.Context, cs *connectSession, fresh bool) (*connectProfiles, error) {
	now := in.Now()
	if !fresh {
		if p := in.cache.get(cs.instance, now); p != nil {
			return p, nil
		}
	}
	var sec, rt []amazonconnect.Profile
	if err := cs.call.do(ctx, func() (err error) { sec, err = cs.c.ListSecurityProfiles(ctx); return err }); err != nil {
		return nil, err
	}
	if err := cs.call.do(ctx, func() (err error) { rt, err = cs.c.ListRoutingProfiles(ctx); return err }); err != nil {
		return nil, err
	}
	p := &connectProfiles{security: sec, routing: rt}
	in.cache.put(cs.instance, p, now)
	return p, nil
}

// SyncResult is what a sync job did.
type SyncResult struct {
	Action   string `json:"action"` // created, linked, updated, restored, unchanged, deleted, stripped, absent, skipped
	UserName string `json:"userName"`
	UserID   string `json:"connectUserId,omitempty"`
}

// HandleSync is the handler of KindConnectSync.
func (in *Integration) HandleSync(ctx context.Context, j *provisioning.Job) (any, error) {
	var pl syncPayload
	if err := j.Decode(&pl); err != nil {
		return nil, provisioning.Permanent(err)
	}
	a, err := in.Catalog.Store.App(ctx, j.AppID)
	if errs.Is(err, errs.NotFound) {
		return SyncResult{Action: "skipped"}, nil
	}
	if err != nil {
		return nil, err
	}
	p, err := in.Provisioning(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	cs, err := in.connectClient(ctx, a, p)
	if err != nil {
		return nil, err
	}
	profiles, err := in.profiles(ctx, cs, false)
	if err != nil {
		return nil, jobError(err)
	}
	spec, err := in.desired(ctx, a, p, j.UserID, profiles)
	if err != nil && errs.Is(err, errs.Invalid) && !mappingError(err) {
		// A profile name may be new in Connect: look again before failing.
		if profiles, err = in.profiles(ctx, cs, true); err != nil {
			return nil, jobError(err)
		}
		spec, err = in.desired(ctx, a, p, j.UserID, profiles)
	}
	if err != nil {
		return nil, err
	}
	name := pl.UserName
	if spec != nil {
		name = spec.Username
	}
	if name == "" {
		return SyncResult{Action: "skipped"}, nil
	}
	fallback := ""
	if p.Deprovision == DeprovisionStrip && spec != nil {
		// Only a known fallback tells a stripped user from one that has
		// that profile for other reasons; an unknown one fails later, when
		// stripping needs it.
		if ids, err := amazonconnect.ProfileIDs(profiles.security, p.FallbackSecurityProfile); err == nil {
			fallback = ids[0]
		}
	}
	c := cs.c
	if spec != nil && pl.New && p.CreateUsers {
		// Most likely absent: create straight away; CreateUser links a user
		// that exists after all.
		return in.create(ctx, cs, p, *spec, fallback)
	}
	var existing amazonconnect.UserSummary
	var found bool
	if err := cs.call.do(ctx, func() (err error) { existing, found, err = c.FindUser(ctx, name); return err }); err != nil {
		return nil, jobError(err)
	}
	switch {
	case spec == nil && !found:
		return SyncResult{Action: "absent", UserName: name}, nil
	case spec == nil:
		if !p.DeactivateUsers {
			return SyncResult{Action: "skipped", UserName: name, UserID: existing.ID}, nil
		}
		if p.Deprovision == DeprovisionStrip {
			return in.strip(ctx, cs, p, profiles, existing.ID, name)
		}
		if err := cs.call.do(ctx, func() error { return c.DeleteUser(ctx, existing.ID) }); err != nil && !amazonconnect.IsKind(err, amazonconnect.NotFound) {
			return nil, jobError(err)
		}
		return SyncResult{Action: "deleted", UserName: name, UserID: existing.ID}, nil
	case !found:
		if !p.CreateUsers {
			return SyncResult{Action: "skipped", UserName: name}, nil
		}
		return in.create(ctx, cs, p, *spec, fallback)
	default:
		return in.update(ctx, cs, p, *spec, existing.ID, "updated", fallback)
	}
}

// create creates the Connect user, or links and updates the one that has
// the username already.
func (in *Integration) create(ctx context.Context, cs *connectSession, p ProvisioningSettings, spec amazonconnect.UserSpec, fallback string) (any, error) {
	var cr amazonconnect.Created
	if err := cs.call.do(ctx, func() (err error) { cr, err = cs.c.CreateUser(ctx, spec); return err }); err != nil {
		return nil, jobError(err)
	}
	if cr.Linked {
		return in.update(ctx, cs, p, spec, cr.UserID, "linked", fallback)
	}
	return SyncResult{Action: "created", UserName: spec.Username, UserID: cr.UserID}, nil
}

// update brings an existing Connect user in line with spec. fallback is the
// ID of the deprovisioning fallback security profile ("" unless the app
// strips profiles).
func (in *Integration) update(ctx context.Context, cs *connectSession, p ProvisioningSettings, spec amazonconnect.UserSpec, id, action, fallback string) (any, error) {
	quiet := SyncResult{Action: "unchanged", UserName: spec.Username, UserID: id}
	if action == "linked" {
		quiet.Action = "linked"
	}
	if !p.UpdateUsers && p.Deprovision != DeprovisionStrip {
		return quiet, nil
	}
	var cur *amazonconnect.DescribedUser
	if err := cs.call.do(ctx, func() (err error) { cur, err = cs.c.DescribeUser(ctx, id); return err }); err != nil {
		return nil, jobError(err)
	}
	spec.IdentityInfo = keepDontPush(p, spec.IdentityInfo, cur.IdentityInfo)
	changes := amazonconnect.Plan(spec, cur)
	if !p.UpdateUsers {
		// Without Update User Attributes, Gatehouse changes an existing
		// user only to give back the security profiles it stripped when
		// the person lost the app: they are assigned again.
		changes = restoreOnly(changes, cur, fallback)
		if len(changes) == 0 {
			return quiet, nil
		}
		if action == "updated" {
			action = "restored"
		}
	}
	if len(changes) == 0 && action == "updated" {
		action = "unchanged"
	}
	// One call per change, so a throttled change is retried alone.
	for _, ch := range changes {
		step := []amazonconnect.Change{ch}
		if err := cs.call.do(ctx, func() error { _, err := cs.c.Apply(ctx, id, step); return err }); err != nil {
			return nil, jobError(err)
		}
	}
	return SyncResult{Action: action, UserName: spec.Username, UserID: id}, nil
}

// Drift is a difference between Gatehouse and a Connect instance.
type Drift struct {
	UserID   string `json:"userId,omitempty"`
	UserName string `json:"userName"`
	Problem  string `json:"problem"` // missing in Connect, not assigned in Gatehouse
}

// Reconcile compares the app's assignments with the instance's users. With
// dryRun it only reports; otherwise it enqueues a sync for every
// difference.
func (in *Integration) Reconcile(ctx context.Context, appID string, dryRun bool) ([]Drift, error) {
	a, err := in.Catalog.Store.App(ctx, appID)
	if err != nil {
		return nil, err
	}
	p, err := in.Provisioning(ctx, appID)
	if err != nil {
		return nil, err
	}
	cs, err := in.connectClient(ctx, a, p)
	if err != nil {
		return nil, err
	}
	var remote []amazonconnect.UserSummary
	if err := cs.call.do(ctx, func() (err error) { remote, err = cs.c.ListAllUsers(ctx); return err }); err != nil {
		return nil, err
	}
	inConnect := map[string]bool{}
	for _, u := range remote {
		inConnect[u.Username] = true
	}
	assigned := map[string]string{} // username → user id
	after := ""
	for {
		page, err := in.Catalog.AppUsers(ctx, catalog.AppUserQuery{AppID: appID, After: after, Limit: 500})
		if err != nil {
			return nil, err
		}
		for _, asg := range page {
			u, err := in.Directory.Store.User(ctx, asg.UserID)
			if err != nil || u.Status == directory.Deprovisioned || u.Status == directory.Suspended {
				continue
			}
			assigned[asg.UserName] = asg.UserID
		}
		if len(page) < 500 {
			break
		}
		after = page[len(page)-1].UserID
	}
	var drift []Drift
	for name, id := range assigned {
		if !inConnect[name] {
			drift = append(drift, Drift{UserID: id, UserName: name, Problem: "missing in Amazon Connect"})
		}
	}
	for name := range inConnect {
		if _, ok := assigned[name]; !ok {
			drift = append(drift, Drift{UserName: name, Problem: "in Amazon Connect but not assigned in Gatehouse"})
		}
	}
	sort.Slice(drift, func(i, j int) bool { return drift[i].UserName < drift[j].UserName })
	if dryRun {
		return drift, nil
	}
	for _, d := range drift {
		if d.UserID == "" {
			continue // unknown to Gatehouse: reported, never deleted blindly
		}
		if err := in.Queue.EnqueueNow(ctx, &provisioning.Job{Kind: KindConnectSync, AppID: appID, UserID: d.UserID,
			DedupeKey: "connect:" + appID + ":" + d.UserID, Payload: mustJSON(syncPayload{UserName: d.UserName, New: true})}); err != nil {
			return drift, err
		}
	}
	return drift, nil
}

// HandleReconcile is the handler of KindConnectReconcile.
func (in *Integration) HandleReconcile(ctx context.Context, j *provisioning.Job) (any, error) {
	d, err := in.Reconcile(ctx, j.AppID, false)
	if err != nil {
		return nil, jobError(err)
	}
	return map[string]any{"differences": len(d)}, nil
}

// mappingError reports whether a sync failed on an attribute mapping (no
// use reading the instance's profiles again).
func mappingError(err error) bool {
	return strings.HasPrefix(unwrapPermanent(err).Error(), "attribute mapping ")
}

// restoreOnly keeps, of an update plan, the security profile change of a
// user whose profiles Gatehouse stripped (exactly the fallback profile).
func restoreOnly(changes []amazonconnect.Change, cur *amazonconnect.DescribedUser, fallback string) []amazonconnect.Change {
	if fallback == "" || len(cur.SecurityProfileIDs) != 1 || cur.SecurityProfileIDs[0] != fallback {
		return nil
	}
	var out []amazonconnect.Change
	for _, ch := range changes {
		if ch.Op == amazonconnect.OpUpdateSecurityProfiles {
			out = append(out, ch)
		}
	}
	return out
}

// strip leaves a Connect user with only the fallback security profile, for
// a person who lost the app when the app strips instead of deleting. It
// writes absolute state, so running it again changes nothing.
func (in *Integration) strip(ctx context.Context, cs *connectSession, p ProvisioningSettings, profiles *connectProfiles, id, name string) (any, error) {
	ids, err := amazonconnect.ProfileIDs(profiles.security, p.FallbackSecurityProfile)
	if err != nil {
		if profiles, err = in.profiles(ctx, cs, true); err != nil {
			return nil, jobError(err)
		}
		if ids, err = amazonconnect.ProfileIDs(profiles.security, p.FallbackSecurityProfile); err != nil {
			return nil, provisioning.Permanent(fmt.Errorf("deprovisioning fallback security profile: %w", err))
		}
	}
	var cur *amazonconnect.DescribedUser
	if err := cs.call.do(ctx, func() (err error) { cur, err = cs.c.DescribeUser(ctx, id); return err }); err != nil {
		if amazonconnect.IsKind(err, amazonconnect.NotFound) {
			return SyncResult{Action: "absent", UserName: name}, nil
		}
		return nil, jobError(err)
	}
	if len(cur.SecurityProfileIDs) == 1 && cur.SecurityProfileIDs[0] == ids[0] {
		return SyncResult{Action: "stripped", UserName: name, UserID: id}, nil
	}
	if err := cs.call.do(ctx, func() error { return cs.c.UpdateSecurityProfiles(ctx, id, ids) }); err != nil {
		if amazonconnect.IsKind(err, amazonconnect.NotFound) {
			return SyncResult{Action: "absent", UserName: name}, nil
		}
		return nil, jobError(err)
	}
	return SyncResult{Action: "stripped", UserName: name, UserID: id}, nil
}
