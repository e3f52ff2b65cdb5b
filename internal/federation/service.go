package federation

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/expr"
	"github.com/gatehouse/gatehouse/internal/ids"
)

// Service manages providers and decides federated sign-ins.
type Service struct {
	Store     Store
	Directory *directory.Service
	Sealer    Sealer
	Expr      *expr.Engine
	// Discover reads OIDC discovery documents when an OIDC provider is
	// saved; nil skips discovery.
	Discover Discoverer
	IDs      *ids.Source
	Now      func() time.Time
	Events   audit.Builder
}

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }

func secretContext(id string) string { return "idp:" + id + ":client_secret" }

// ClientSecret opens a provider's client secret.
func (s *Service) ClientSecret(p *IdP) (string, error) {
	b, err := s.Sealer.Open(p.SealedSecret, secretContext(p.ID))
	if err != nil {
		return "", fmt.Errorf("open client secret of %s: %w", p.ID, err)
	}
	return string(b), nil
}

// IdPTarget describes a provider as an event target.
func IdPTarget(p *IdP) audit.Target {
	return audit.Target{ID: p.ID, Type: "IdentityProvider", AlternateID: string(p.Type), DisplayName: p.Name}
}

// Create validates and stores a new provider. secret is required.
func (s *Service) Create(ctx context.Context, p *IdP, secret string) (*IdP, error) {
	p.ID = s.IDs.New(ids.IdP)
	p.Created, p.LastUpdated = s.now(), s.now()
	if p.Status == "" {
		p.Status = Active
	}
	if err := s.prepare(ctx, p, secret, true, true); err != nil {
		return nil, err
	}
	ev := s.Events.New(ctx, "system.idp.lifecycle.create", "Create identity provider", audit.Success, IdPTarget(p))
	if err := s.Store.PutIdP(ctx, p, true, ev); err != nil {
		return nil, err
	}
	return p, nil
}

// Replace replaces a provider's settings (Okta's PUT). An empty secret
// keeps the stored one: the secret cannot be read back to be sent again.
func (s *Service) Replace(ctx context.Context, id string, p *IdP, secret string) (*IdP, error) {
	old, err := s.Store.IdP(ctx, id)
	if err != nil {
		return nil, err
	}
	p.ID, p.Created, p.LastUpdated = old.ID, old.Created, s.now()
	if p.Status == "" {
		p.Status = old.Status
	}
	if secret == "" {
		p.SealedSecret = old.SealedSecret
	}
	if err := s.prepare(ctx, p, secret, false, true); err != nil {
		return nil, err
	}
	ev := s.Events.New(ctx, "system.idp.lifecycle.update", "Update identity provider", audit.Success, IdPTarget(p))
	if err := s.Store.PutIdP(ctx, p, false, ev); err != nil {
		return nil, err
	}
	return p, nil
}

// SetStatus activates or deactivates a provider.
func (s *Service) SetStatus(ctx context.Context, id, status string) (*IdP, error) {
	p, err := s.Store.IdP(ctx, id)
	if err != nil {
		return nil, err
	}
	p.Status, p.LastUpdated = status, s.now()
	typ, msg := "system.idp.lifecycle.activate", "Activate identity provider"
	if status == Inactive {
		typ, msg = "system.idp.lifecycle.deactivate", "Deactivate identity provider"
	}
	if err := s.Store.PutIdP(ctx, p, false, s.Events.New(ctx, typ, msg, audit.Success, IdPTarget(p))); err != nil {
		return nil, err
	}
	return p, nil
}

// Delete removes an inactive provider and its links.
func (s *Service) Delete(ctx context.Context, id string) error {
	p, err := s.Store.IdP(ctx, id)
	if err != nil {
		return err
	}
	if p.Status == Active {
		return &errs.Error{Kind: errs.IllegalState, Code: "E0000038", Msg: "This operation is not allowed in the current state: deactivate the identity provider before deleting it."}
	}
	return s.Store.DeleteIdP(ctx, id, s.Events.New(ctx, "system.idp.lifecycle.delete", "Delete identity provider", audit.Success, IdPTarget(p)))
}

// Unlink removes the link between a person and a provider.
func (s *Service) Unlink(ctx context.Context, idpID, userID string) error {
	p, err := s.Store.IdP(ctx, idpID)
	if err != nil {
		return err
	}
	u, err := s.Directory.Store.User(ctx, userID)
	if err != nil {
		return err
	}
	ev := s.Events.New(ctx, "user.identity_provider.unlink", "Unlink user from identity provider", audit.Success,
		audit.UserTarget(u.ID, u.Login(), u.DisplayName()), IdPTarget(p))
	return s.Store.DeleteLink(ctx, idpID, u.ID, ev)
}

// Link ties a person to a provider subject by hand (Okta's link a user to
// an IdP): an existing link of the person is replaced; a subject already
// linked to someone else is a Conflict.
func (s *Service) Link(ctx context.Context, idpID, userID, externalID string) (*Link, error) {
	externalID = strings.TrimSpace(externalID)
	if externalID == "" || len(externalID) > 255 {
		return nil, errs.InvalidFields("Api validation failed: externalId", errs.Field("externalId", "externalId: required, at most 255 characters (the sub claim the provider issues for the person)"))
	}
	p, err := s.Store.IdP(ctx, idpID)
	if err != nil {
		return nil, err
	}
	var out *Link
	err = s.Directory.Store.Update(ctx, func(tx directory.Tx) error {
		lt, ok := tx.(LinkTx)
		if !ok {
			return fmt.Errorf("federation: the directory transaction cannot write links")
		}
		u, err := tx.UserForUpdate(userID)
		if err != nil {
			return err
		}
		now := s.now()
		l := &Link{IdPID: p.ID, UserID: u.ID, ExternalID: externalID, Profile: map[string]any{}, Created: now, LastUpdated: now}
		if err := lt.PutLink(l); err != nil {
			return err
		}
		out = l
		return tx.Append(s.Events.New(ctx, "user.identity_provider.link", "Link user to identity provider", audit.Success,
			audit.UserTarget(u.ID, u.Login(), u.DisplayName()), IdPTarget(p)))
	})
	return out, err
}

// Validate reports the problems Create (create true) or Replace would find
// in p, without saving anything or reading the discovery document. p is
// not changed.
func (s *Service) Validate(ctx context.Context, p *IdP, secret string, create bool) error {
	cp := *p
	if cp.ID == "" {
		cp.ID = "unsaved"
	}
	if cp.Status == "" {
		cp.Status = Active
	}
	return s.prepare(ctx, &cp, secret, create, false)
}

// prepare validates p, fills defaults and (with discover) the discovered
// endpoints, and seals a new secret. Every problem is reported at once.
func (s *Service) prepare(ctx context.Context, p *IdP, secret string, create, discover bool) error {
	var fe []errs.FieldError
	add := func(field, format string, args ...any) { fe = append(fe, errs.Field(field, format, args...)) }
	p.Name = strings.TrimSpace(p.Name)
	switch p.Type {
	case Google, LinkedIn, OIDC:
	case "":
		add("type", "type: required, one of GOOGLE, LINKEDIN or OIDC")
	default:
		add("type", "type: %q is not supported; use GOOGLE, LINKEDIN or OIDC", string(p.Type))
	}
	if p.Name == "" {
		p.Name = p.Type.Label()
	}
	if len(p.Name) > 100 {
		add("name", "name: at most 100 characters")
	}
	if p.Status != Active && p.Status != Inactive {
		add("status", "status: must be ACTIVE or INACTIVE")
	}
	p.ClientID = strings.TrimSpace(p.ClientID)
	if p.ClientID == "" {
		add("protocol.credentials.client.client_id", "protocol.credentials.client.client_id: required")
	}
	if secret == "" && (create || p.SealedSecret == "") {
		add("protocol.credentials.client.client_secret", "protocol.credentials.client.client_secret: required")
	}
	if len(p.Scopes) == 0 {
		p.Scopes = []string{"openid", "email", "profile"}
	}
	if !slices.Contains(p.Scopes, "openid") {
		add("protocol.scopes", "protocol.scopes: must include openid")
	}
	for _, sc := range p.Scopes {
		if sc == "" || strings.ContainsAny(sc, " \t\r\n\"\\") {
			add("protocol.scopes", "protocol.scopes: %q is not a valid scope", sc)
		}
	}
	switch p.Type {
	case OIDC:
		p.Issuer = strings.TrimRight(strings.TrimSpace(p.Issuer), "/")
		if p.Issuer == "" {
			add("protocol.issuer.url", "protocol.issuer.url: required for an OIDC identity provider")
		} else if msg := checkIssuerURL(p.Issuer); msg != "" {
			add("protocol.issuer.url", "protocol.issuer.url: %s", msg)
		}
	case Google, LinkedIn:
		if p.Issuer != "" && strings.TrimRight(p.Issuer, "/") != WellKnownIssuer(p.Type) {
			add("protocol.issuer.url", "protocol.issuer.url: the issuer of %s is %s and cannot be changed", p.Type.Label(), WellKnownIssuer(p.Type))
		}
		p.Issuer = ""
	}
	if p.MaxClockSkew < 0 || p.MaxClockSkew > 10*time.Minute {
		add("policy.maxClockSkew", "policy.maxClockSkew: between 0 and 600000 milliseconds")
	}
	if p.Provisioning.Action == "" {
		p.Provisioning.Action = ActionAuto
	}
	if p.Provisioning.Action != ActionAuto && p.Provisioning.Action != ActionDisabled {
		add("policy.provisioning.action", "policy.provisioning.action: must be AUTO or DISABLED")
	}
	if p.AccountLink.Action == "" {
		p.AccountLink.Action = ActionAuto
	}
	if p.AccountLink.Action != ActionAuto && p.AccountLink.Action != ActionDisabled {
		add("policy.accountLink.action", "policy.accountLink.action: must be AUTO or DISABLED")
	}
	for field, list := range map[string][]string{"policy.provisioning.groups.assignments": p.Provisioning.Groups, "policy.accountLink.filter.groups.include": p.AccountLink.FilterGroups} {
		for _, gid := range list {
			if _, err := s.Directory.Store.Group(ctx, gid); err != nil {
				if !errs.Is(err, errs.NotFound) {
					return err
				}
				add(field, "%s: group %q does not exist", field, gid)
			}
		}
	}
	if p.Subject.MatchType == "" {
		p.Subject.MatchType = MatchUsername
	}
	switch p.Subject.MatchType {
	case MatchUsername, MatchEmail, MatchUsernameOrEmail:
	default:
		add("policy.subject.matchType", "policy.subject.matchType: must be USERNAME, EMAIL or USERNAME_OR_EMAIL")
	}
	if strings.TrimSpace(p.Subject.UserNameTemplate) == "" {
		p.Subject.UserNameTemplate = "idpuser.email"
	}
	if _, err := s.compile(p.Subject.UserNameTemplate); err != nil {
		add("policy.subject.userNameTemplate.template", "policy.subject.userNameTemplate.template: %v", err)
	}
	if len(p.Provisioning.ProfileMapping) == 0 {
		p.Provisioning.ProfileMapping = DefaultMapping()
	}
	keys := make([]string, 0, len(p.Provisioning.ProfileMapping))
	for k := range p.Provisioning.ProfileMapping {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if _, err := s.compile(p.Provisioning.ProfileMapping[k]); err != nil {
			add("policy.provisioning.profileMapping."+k, "policy.provisioning.profileMapping.%s: %v", k, err)
		}
	}
	if _, ok := p.Provisioning.ProfileMapping["login"]; !ok {
		add("policy.provisioning.profileMapping.login", "policy.provisioning.profileMapping: must map login")
	}
	if len(fe) > 0 {
		return errs.InvalidFields("Api validation failed: identityProvider", fe...)
	}
	if p.Type == OIDC && s.Discover != nil && discover {
		ep, err := s.Discover.Discover(ctx, p.Issuer)
		if err != nil {
			return errs.InvalidFields("Api validation failed: identityProvider",
				errs.Field("protocol.issuer.url", "protocol.issuer.url: the OpenID Connect discovery document of %s could not be read: %v", p.Issuer, err))
		}
		p.Endpoints = ep
	}
	if secret != "" {
		sealed, err := s.Sealer.Seal([]byte(secret), secretContext(p.ID))
		if err != nil {
			return fmt.Errorf("seal client secret: %w", err)
		}
		p.SealedSecret = sealed
	}
	return nil
}
