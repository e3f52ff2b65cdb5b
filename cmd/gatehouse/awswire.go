package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/gatehouse/gatehouse/internal/awsapp"
	"github.com/gatehouse/gatehouse/internal/catalog"
	ghaws "github.com/gatehouse/gatehouse/internal/integration/aws"
	"github.com/gatehouse/gatehouse/internal/provisioning"
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
	return &provisioning.Runner{
		Store: a.db.Jobs(),
		Handlers: map[string]provisioning.Handler{
			awsapp.KindConnectSync:      a.aws.HandleSync,
			awsapp.KindConnectReconcile: a.aws.HandleReconcile,
		},
		Workers: a.cfg.Provisioners,
		Events:  a.events,
		IDs:     a.ids,
		Now:     a.now,
		Logger:  log,
	}
}
