package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/awsapp"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/console"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/eventhook"
	"github.com/gatehouse/gatehouse/internal/integration/amazonconnect"
	ghaws "github.com/gatehouse/gatehouse/internal/integration/aws"
	"github.com/gatehouse/gatehouse/internal/provisioning"
	"github.com/gatehouse/gatehouse/internal/recovery"
	"github.com/gatehouse/gatehouse/internal/samlidp"
	"github.com/gatehouse/gatehouse/internal/sso"
)

// awsAttributes adapts the AWS integration to the SSO surface: it turns
// AWS attributes into SAML attributes, and the integration's refusals
// (no role, an unusable RoleSessionName) into pages for the person.
type awsAttributes struct{ in *awsapp.Integration }

func (a awsAttributes) ACS(app *catalog.App) string               { return a.in.ACS(app) }
func (a awsAttributes) DefaultRelayState(app *catalog.App) string { return a.in.DefaultRelayState(app) }

func (a awsAttributes) Attributes(ctx context.Context, in sso.AttributeInput) ([]samlidp.Attribute, error) {
	attrs, err := a.in.Attributes(ctx, in.App, in.User, in.Assignment, in.Groups)
	if err != nil {
		var noRoles *ghaws.NoRolesError
		var noProvider *ghaws.NoProviderError
		var badName *ghaws.SessionNameError
		switch {
		case errors.As(err, &noRoles):
			msg := fmt.Sprintf("You have no AWS role for %s. Ask your administrator to choose a Role for your assignment.", in.App.Label)
			if len(noRoles.Unresolved) > 0 {
				msg += " (Unknown roles: " + strings.Join(noRoles.Unresolved, ", ") + ".)"
			}
			return nil, &sso.Refusal{Title: "No AWS role", Msg: msg}
		case errors.As(err, &noProvider):
			return nil, &sso.Refusal{Title: "AWS app not configured", Msg: "The app has no Identity Provider ARN for your role's account. Contact your administrator."}
		case errors.As(err, &badName):
			return nil, &sso.Refusal{Title: "Username not accepted by AWS", Msg: fmt.Sprintf("Your username for %s cannot be used with AWS: %s. Contact your administrator.", in.App.Label, badName.Rule)}
		}
		return nil, err
	}
	out := make([]samlidp.Attribute, len(attrs))
	for i, at := range attrs {
		out[i] = samlidp.Attribute{Name: at.Name, NameFormat: at.NameFormat, Values: at.Values}
	}
	return out, nil
}

// runner returns the provisioning runner of this node.
func (a *app) runner(log *slog.Logger) *provisioning.Runner {
	handlers := map[string]provisioning.Handler{
		awsapp.KindConnectSync:      a.aws.HandleSync,
		awsapp.KindConnectReconcile: a.aws.HandleReconcile,
		awsapp.KindRefreshRoles:     a.aws.HandleRefreshRoles,
		eventhook.KindDeliver:       a.delivery.Handle,
	}
	// Email jobs run only on nodes that can send email.
	if a.recovery.Enabled() {
		for _, k := range recovery.Kinds {
			handlers[k] = a.recovery.Handle
		}
	}
	return &provisioning.Runner{
		Store:    a.db.Jobs(),
		Handlers: handlers,
		Workers:  a.cfg.Provisioners,
		Events:   a.events,
		EventType: func(kind string) string {
			if t, ok := recovery.EventType(kind); ok {
				return t
			}
			return provisioning.FailureEventType(kind)
		},
		Describe: map[string]func(*provisioning.Job, *audit.Event){eventhook.KindDeliver: eventhook.FailureEvent},
		IDs:      a.ids,
		Now:      a.now,
		Logger:   log,
	}
}

// consoleProvisioning runs the console's Provisioning tab for AWS and
// Amazon Connect apps through the AWS integration and the job queue.
type consoleProvisioning struct {
	in    *awsapp.Integration
	queue *provisioning.Queue
}

func (p consoleProvisioning) app(ctx context.Context, appID string) (*catalog.App, error) {
	a, err := p.in.Catalog.Store.App(ctx, appID)
	if err != nil {
		return nil, err
	}
	if !awsapp.IsAWSApp(a.Name) {
		return nil, errs.IllegalStatef("%s.", console.NotAvailable)
	}
	return a, nil
}

func (p consoleProvisioning) Status(ctx context.Context, appID string) (console.ProvisioningStatus, error) {
	a, err := p.in.Catalog.Store.App(ctx, appID)
	if err != nil || !awsapp.IsAWSApp(a.Name) {
		return console.ProvisioningStatus{}, err
	}
	st := console.ProvisioningStatus{Available: true, Users: a.Name == awsapp.Connect}
	if sk, err := p.in.Catalog.AppSecret(ctx, appID, "secretKey"); err == nil && sk != "" {
		st.CredentialsSet = true
	}
	ps, err := p.in.Provisioning(ctx, appID)
	if err != nil {
		return st, err
	}
	st.APIIntegration, st.CreateUsers, st.UpdateUsers, st.DeactivateUsers = ps.APIIntegration, ps.CreateUsers, ps.UpdateUsers, ps.DeactivateUsers
	if st.Users {
		for _, attr := range awsapp.MappedAttributes {
			st.Mappings = append(st.Mappings, console.AttributeMapping{Attribute: attr, Expression: ps.Mappings[attr], CreateOnly: ps.PushStatus(attr) == awsapp.DontPush})
		}
		st.Defaults = console.ProvisioningDefaults{SecurityProfiles: ps.SecurityProfiles, RoutingProfile: ps.RoutingProfile, PhoneType: ps.PhoneType,
			StripProfiles: ps.Deprovision == awsapp.DeprovisionStrip, Fallback: ps.FallbackSecurityProfile}
	}
	if js, err := p.queue.Status(ctx, appID); err == nil {
		st.Pending, st.Running = js.Counts[provisioning.Pending], js.Counts[provisioning.Running]
		st.Failed, st.Succeeded = js.Counts[provisioning.Failed], js.Counts[provisioning.Succeeded]
		if len(js.RecentFailures) > 0 {
			st.LastError = js.RecentFailures[0].LastError
		}
	}
	roles, at, err := p.in.Roles(ctx, appID)
	if err == nil {
		st.DataRefreshed = at
		names := make([]string, 0, len(roles))
		for _, r := range roles {
			names = append(names, r.Name)
		}
		if len(names) > 0 {
			st.Notes = append(st.Notes, "Imported IAM roles: "+strings.Join(names, ", "))
		}
	}
	return st, nil
}

func (p consoleProvisioning) SaveMappings(ctx context.Context, appID string, m []console.AttributeMapping) error {
	if _, err := p.connectApp(ctx, appID); err != nil {
		return err
	}
	ps, err := p.in.Provisioning(ctx, appID)
	if err != nil {
		return err
	}
	ps.Mappings, ps.DontPush = mappingsOf(m)
	return p.in.SaveProvisioning(ctx, appID, ps)
}

func mappingsOf(m []console.AttributeMapping) (map[string]string, []string) {
	out := map[string]string{}
	var dont []string
	for _, x := range m {
		out[x.Attribute] = x.Expression
		if x.CreateOnly && x.Expression != "" {
			dont = append(dont, x.Attribute)
		}
	}
	return out, dont
}

func (p consoleProvisioning) Preview(ctx context.Context, appID, person string, m []console.AttributeMapping) (*console.MappingPreview, error) {
	if _, err := p.connectApp(ctx, appID); err != nil {
		return nil, err
	}
	var mappings map[string]string
	var dont []string
	if m != nil {
		mappings, dont = mappingsOf(m)
	}
	pv, err := p.in.Preview(ctx, appID, person, mappings, dont)
	if err != nil {
		return nil, err
	}
	out := &console.MappingPreview{Person: pv.DisplayName, Login: pv.Login, UserName: pv.UserName, Assigned: pv.Assigned, Scope: pv.Scope,
		PhoneType: pv.PhoneType, SecurityProfiles: strings.Join(pv.SecurityProfiles, ", "), SecurityFrom: pv.SecurityProfilesFrom,
		RoutingProfile: pv.RoutingProfile, RoutingFrom: pv.RoutingProfileFrom, Problems: pv.Problems, Sent: pv.Sent, Reason: pv.Reason}
	for _, a := range pv.Attributes {
		out.Rows = append(out.Rows, console.PreviewRow{Attribute: a.Attribute, Expression: a.Expression, Value: a.Value, Error: a.Error, CreateOnly: a.PushStatus == awsapp.DontPush})
	}
	return out, nil
}

func (p consoleProvisioning) SaveDefaults(ctx context.Context, appID string, d console.ProvisioningDefaults) error {
	if _, err := p.connectApp(ctx, appID); err != nil {
		return err
	}
	ps, err := p.in.Provisioning(ctx, appID)
	if err != nil {
		return err
	}
	ps.SecurityProfiles, ps.RoutingProfile, ps.PhoneType = d.SecurityProfiles, d.RoutingProfile, d.PhoneType
	ps.Deprovision, ps.FallbackSecurityProfile = awsapp.DeprovisionDelete, ""
	if d.StripProfiles {
		ps.Deprovision, ps.FallbackSecurityProfile = awsapp.DeprovisionStrip, d.Fallback
	}
	return p.in.SaveProvisioning(ctx, appID, ps)
}

// connectApp loads an Amazon Connect app.
func (p consoleProvisioning) connectApp(ctx context.Context, appID string) (*catalog.App, error) {
	a, err := p.app(ctx, appID)
	if err != nil {
		return nil, err
	}
	if a.Name != awsapp.Connect {
		return nil, errs.IllegalStatef("Only Amazon Connect apps provision users.")
	}
	return a, nil
}

// taskNames are the provisioning task kinds in words.
var taskNames = map[string]string{
	awsapp.KindConnectSync:      "Sync the Amazon Connect user",
	awsapp.KindConnectReconcile: "Compare with Amazon Connect",
	awsapp.KindRefreshRoles:     "Import IAM roles",
}

const taskPage = 50

func (p consoleProvisioning) Tasks(ctx context.Context, appID string, q console.TaskQuery) (console.TaskPage, error) {
	if _, err := p.app(ctx, appID); err != nil {
		return console.TaskPage{}, err
	}
	jobs, next, err := p.queue.List(ctx, provisioning.Filter{AppID: appID, State: provisioning.State(q.State)}, q.After, taskPage)
	if err != nil {
		return console.TaskPage{}, err
	}
	out := console.TaskPage{Next: next}
	people := map[string]*directory.User{}
	for _, j := range jobs {
		t := console.Task{ID: j.ID, What: taskNames[j.Kind], UserID: j.UserID, State: string(j.State), Attempts: j.Attempts,
			MaxAttempts: j.MaxAttempts, LastError: j.LastError, Updated: j.Updated}
		if t.What == "" {
			t.What = j.Kind
		}
		if j.UserID != "" {
			u, ok := people[j.UserID]
			if !ok {
				u, _ = p.in.Directory.Store.User(ctx, j.UserID)
				people[j.UserID] = u
			}
			if u != nil {
				t.Person, t.Login = u.DisplayName(), u.Login()
			} else {
				t.Person = "(deleted person)"
			}
		}
		if j.State == provisioning.Succeeded && len(j.Result) > 0 {
			var res awsapp.SyncResult
			if json.Unmarshal(j.Result, &res) == nil && res.Action != "" {
				t.Outcome = res.Action
			}
		}
		out.Tasks = append(out.Tasks, t)
	}
	return out, nil
}

func (p consoleProvisioning) RetryTask(ctx context.Context, appID, taskID string) (string, error) {
	if _, err := p.app(ctx, appID); err != nil {
		return "", err
	}
	j, err := p.queue.Job(ctx, taskID)
	if err != nil || j.AppID != appID {
		return "", errs.NotFoundf("There is no such provisioning task.")
	}
	if _, err := p.queue.Retry(ctx, taskID); err != nil {
		return "", err
	}
	return "The task was queued again.", nil
}

func (p consoleProvisioning) PushPreview(ctx context.Context, appID string) ([]console.PushDifference, error) {
	if _, err := p.connectApp(ctx, appID); err != nil {
		return nil, err
	}
	d, err := p.in.Reconcile(ctx, appID, true)
	if err != nil {
		return nil, connectRefused(err)
	}
	out := make([]console.PushDifference, 0, len(d))
	for _, x := range d {
		pd := console.PushDifference{UserID: x.UserID, UserName: x.UserName, Problem: x.Problem,
			Action: "Reported only: Gatehouse never removes Connect users it does not know."}
		if x.UserID != "" {
			pd.Action = "Gatehouse creates (or links) the Connect user."
			if u, err := p.in.Directory.Store.User(ctx, x.UserID); err == nil {
				pd.Person = u.DisplayName()
			}
		}
		out = append(out, pd)
	}
	return out, nil
}

func connectRefused(err error) error {
	var ce *amazonconnect.Error
	if errors.As(err, &ce) {
		return errs.Wrap(errs.Invalid, "Amazon Connect refused: "+ce.Error(), err)
	}
	return err
}

func (p consoleProvisioning) TestCredentials(ctx context.Context, appID, accessKey, secretKey string) (string, error) {
	if _, err := p.app(ctx, appID); err != nil {
		return "", err
	}
	id, err := p.in.TestCredentials(ctx, appID, accessKey, secretKey)
	if err != nil {
		var ae *ghaws.APIError
		if errors.As(err, &ae) {
			return "", errs.Wrap(errs.Invalid, "AWS refused the credentials: "+ae.Error(), err)
		}
		return "", err
	}
	return fmt.Sprintf("The credentials work: AWS account %s, %s.", id.Account, id.Arn), nil
}

func (p consoleProvisioning) SaveCredentials(ctx context.Context, appID string, enabled bool, accessKey, secretKey string) error {
	a, err := p.app(ctx, appID)
	if err != nil {
		return err
	}
	if accessKey != "" || secretKey != "" {
		settings := map[string]any{}
		for k, v := range a.Settings.App {
			settings[k] = v
		}
		if accessKey != "" {
			settings["accessKey"] = accessKey
		}
		if secretKey != "" {
			settings["secretKey"] = secretKey
		}
		so := a.Settings.SignOn
		if _, err := p.in.Catalog.UpdateApp(ctx, appID, catalog.AppInput{Name: a.Name, Label: a.Label, SignOnMode: a.SignOnMode,
			Visibility: &a.Visibility, Accessibility: &a.Accessibility, UserNameTemplate: &a.Credentials.UserNameTemplate,
			SettingsApp: settings, SignOn: &so, Notes: &a.Settings.Notes}); err != nil {
			return err
		}
	}
	if a.Name != awsapp.Connect {
		return nil
	}
	ps, err := p.in.Provisioning(ctx, appID)
	if err != nil {
		return err
	}
	ps.APIIntegration = enabled
	if !enabled {
		ps.CreateUsers, ps.UpdateUsers, ps.DeactivateUsers = false, false, false
	}
	return p.in.SaveProvisioning(ctx, appID, ps)
}

func (p consoleProvisioning) SetFeatures(ctx context.Context, appID string, create, update, deactivate bool) error {
	a, err := p.app(ctx, appID)
	if err != nil {
		return err
	}
	if a.Name != awsapp.Connect {
		return errs.InvalidFields("Creating users is available for Amazon Connect; the AWS app only imports roles.")
	}
	ps, err := p.in.Provisioning(ctx, appID)
	if err != nil {
		return err
	}
	ps.CreateUsers, ps.UpdateUsers, ps.DeactivateUsers = create, update, deactivate
	if err := p.in.SaveProvisioning(ctx, appID, ps); err != nil {
		return err
	}
	if create {
		_, err = p.in.Reconcile(ctx, appID, false)
	}
	return err
}

func (p consoleProvisioning) Retry(ctx context.Context, appID string) (string, error) {
	if _, err := p.app(ctx, appID); err != nil {
		return "", err
	}
	n, err := p.queue.RetryFailed(ctx, appID)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%d failed task(s) queued again.", n), nil
}

func (p consoleProvisioning) RefreshAppData(ctx context.Context, appID string) (string, error) {
	if _, err := p.app(ctx, appID); err != nil {
		return "", err
	}
	roles, err := p.in.RefreshRoles(ctx, appID)
	if err != nil {
		var ae *ghaws.APIError
		if errors.As(err, &ae) {
			return "", errs.Wrap(errs.Invalid, "AWS refused: "+ae.Error(), err)
		}
		return "", err
	}
	return fmt.Sprintf("Imported %d IAM role(s) that trust the app's identity provider.", len(roles)), nil
}

func (p consoleProvisioning) PushNow(ctx context.Context, appID string) (int, string, error) {
	if _, err := p.connectApp(ctx, appID); err != nil {
		return 0, "", err
	}
	d, err := p.in.Reconcile(ctx, appID, false)
	if err != nil {
		return 0, "", connectRefused(err)
	}
	n := 0
	for _, x := range d {
		if x.UserID != "" {
			n++
		}
	}
	return n, fmt.Sprintf("Compared with Amazon Connect: %d difference(s); %d sync(s) queued.", len(d), n), nil
}

// scheduler keeps the periodic integration work going: role refreshes and
// Connect reconciliations.
func (a *app) scheduler(log *slog.Logger) *provisioning.Scheduler {
	return &provisioning.Scheduler{Queue: a.queue, Jobs: a.aws.Periodic, Logger: log}
}

// startJobs runs this node's provisioning runner and scheduler until the
// returned stop function is called; stop waits for running jobs.
func (a *app) startJobs(log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := a.runner(log).Run(ctx); err != nil {
			log.Error("provisioning runner stopped", "err", err)
		}
	}()
	go a.scheduler(log).Run(ctx)
	go a.hooks.Registry.Run(ctx, eventhook.DefaultRefresh)
	go func() {
		// Group rule activations a stopped process (or a failed pass) left
		// unfinished: at start, then every minute.
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			if err := a.groupRules.Resume(ctx); err != nil && ctx.Err() == nil {
				log.Error("resuming group rule evaluations", "err", err)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() { cancel(); <-done }
}
