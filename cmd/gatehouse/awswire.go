package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/gatehouse/gatehouse/internal/awsapp"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/console"
	"github.com/gatehouse/gatehouse/internal/errs"
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
		IDs:    a.ids,
		Now:    a.now,
		Logger: log,
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
	st := console.ProvisioningStatus{Available: true}
	if sk, err := p.in.Catalog.AppSecret(ctx, appID, "secretKey"); err == nil && sk != "" {
		st.CredentialsSet = true
	}
	ps, err := p.in.Provisioning(ctx, appID)
	if err != nil {
		return st, err
	}
	st.APIIntegration, st.CreateUsers, st.UpdateUsers, st.DeactivateUsers = ps.APIIntegration, ps.CreateUsers, ps.UpdateUsers, ps.DeactivateUsers
	for _, attr := range awsapp.MappedAttributes {
		if e := ps.Mappings[attr]; e != "" {
			st.Mappings = append(st.Mappings, console.AttributeMapping{Attribute: attr, Expression: e})
		}
	}
	if js, err := p.queue.Status(ctx, appID); err == nil {
		st.Pending = js.Counts[provisioning.Pending] + js.Counts[provisioning.Running]
		st.Failed = js.Counts[provisioning.Failed]
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
	if a.Name == awsapp.Connect {
		st.Notes = append(st.Notes, fmt.Sprintf("New Connect users get the security profiles %s and the routing profile %q unless their assignment names others.",
			strings.Join(ps.SecurityProfiles, ", "), ps.RoutingProfile))
	}
	return st, nil
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
	failed, _, err := p.queue.List(ctx, provisioning.Filter{AppID: appID, State: provisioning.Failed}, "", 200)
	if err != nil {
		return "", err
	}
	n := 0
	for _, j := range failed {
		if _, err := p.queue.Retry(ctx, j.ID); err == nil {
			n++
		}
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

func (p consoleProvisioning) PushNow(ctx context.Context, appID string) (string, error) {
	a, err := p.app(ctx, appID)
	if err != nil {
		return "", err
	}
	if a.Name != awsapp.Connect {
		return "", errs.InvalidFields("Only Amazon Connect apps provision users.")
	}
	d, err := p.in.Reconcile(ctx, appID, false)
	if err != nil {
		var ce *amazonconnect.Error
		if errors.As(err, &ce) {
			return "", errs.Wrap(errs.Invalid, "Amazon Connect refused: "+ce.Error(), err)
		}
		return "", err
	}
	return fmt.Sprintf("Compared with Amazon Connect: %d difference(s); syncs queued for assigned people.", len(d)), nil
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
	return func() { cancel(); <-done }
}
