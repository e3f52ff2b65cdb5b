package federation

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/filter"
)

// Claims are the verified claims of a provider's ID token.
type Claims struct {
	Subject       string
	Email         string
	EmailVerified bool
	// Raw holds every claim, for the profile mapping.
	Raw map[string]any
}

// Failure is a refused federated sign-in. Reason goes to the system log;
// Message is safe to show to the person.
type Failure struct {
	Reason  string
	Message string
}

func (f *Failure) Error() string { return "federated sign-in refused: " + f.Reason }

// Refusal reasons.
const (
	ReasonUnverifiedEmail = "UNVERIFIED_EMAIL"
	ReasonUnknownUser     = "UNKNOWN_USER"
	ReasonLinkDisabled    = "ACCOUNT_LINK_DISABLED"
	ReasonLinkFilter      = "ACCOUNT_LINK_FILTER"
	ReasonAmbiguous       = "AMBIGUOUS_MATCH"
	ReasonAlreadyLinked   = "ALREADY_LINKED"
	ReasonNotActive       = "USER_NOT_ACTIVE"
	ReasonProvisioning    = "PROVISIONING_FAILED"
	ReasonInactiveIdP     = "IDP_INACTIVE"
	ReasonInternal        = "INTERNAL_ERROR"
)

// Outcome says how a successful sign-in found its person.
type Outcome string

// Outcomes of SignIn.
const (
	Returning Outcome = "LINKED"       // an existing link
	NewLink   Outcome = "LINK_CREATED" // linked to an existing person now
	Created   Outcome = "JIT_CREATED"  // created just in time
)

// LogFailure records a refused federated sign-in in the system log.
// alternate names the provider account (email or subject) when known.
func (s *Service) LogFailure(ctx context.Context, p *IdP, alternate, reason string) error {
	targets := []audit.Target{}
	if alternate != "" {
		targets = append(targets, audit.Target{ID: "unknown", Type: "User", AlternateID: alternate, DisplayName: alternate})
	}
	if p != nil {
		targets = append(targets, IdPTarget(p))
	}
	ev := s.Events.New(ctx, "user.authentication.auth_via_IDP", "Authenticate user via IDP", audit.Failure, targets...)
	ev.Outcome.Reason = reason
	return s.Store.Append(ctx, ev)
}

func (s *Service) refuse(ctx context.Context, p *IdP, c Claims, reason, msg string) error {
	alt := c.Email
	if alt == "" {
		alt = c.Subject
	}
	if err := s.LogFailure(ctx, p, alt, reason); err != nil {
		return fmt.Errorf("log refused sign-in: %w", err)
	}
	return &Failure{Reason: reason, Message: msg}
}

// SignIn decides a federated sign-in from verified claims: an existing
// link signs its person in; otherwise a verified email (never an
// unverified one) may link an existing person, or create one just in
// time, as the provider's policy says. Refusals are *Failure, already in
// the system log; success writes the link, the last sign-in and the
// events in one transaction.
func (s *Service) SignIn(ctx context.Context, p *IdP, c Claims) (*directory.User, Outcome, error) {
	name := p.Name
	if p.Status != Active {
		return nil, "", s.refuse(ctx, p, c, ReasonInactiveIdP, "Signing in with "+name+" is turned off. Sign in with your username and password, or contact your administrator.")
	}
	if c.Subject == "" {
		return nil, "", errors.New("federation: claims without a subject")
	}
	link, err := s.Store.LinkBySubject(ctx, p.ID, c.Subject)
	if err == nil {
		u, err := s.finish(ctx, p, c, link.UserID, Returning)
		return u, Returning, err
	}
	if !errs.Is(err, errs.NotFound) {
		return nil, "", err
	}
	if c.Email == "" || !c.EmailVerified {
		return nil, "", s.refuse(ctx, p, c, ReasonUnverifiedEmail,
			"Your "+name+" account's email address is not verified, so it cannot be used to sign in here. Verify the address with "+name+", then try again.")
	}
	match, err := s.match(ctx, p, c)
	if err != nil {
		var f *Failure
		if errors.As(err, &f) {
			return nil, "", s.refuse(ctx, p, c, f.Reason, f.Message)
		}
		return nil, "", err
	}
	if match != nil {
		if p.AccountLink.Action != ActionAuto {
			return nil, "", s.refuse(ctx, p, c, ReasonLinkDisabled,
				"An account with your email address already exists, but it is not linked to "+name+". Sign in with your username and password, or ask your administrator to link it.")
		}
		if len(p.AccountLink.FilterGroups) > 0 {
			ok, err := s.inAnyGroup(ctx, match.ID, p.AccountLink.FilterGroups)
			if err != nil {
				return nil, "", err
			}
			if !ok {
				return nil, "", s.refuse(ctx, p, c, ReasonLinkFilter,
					"Your account cannot be linked to "+name+" automatically. Sign in with your username and password, or contact your administrator.")
			}
		}
		if _, err := s.Store.Link(ctx, p.ID, match.ID); err == nil {
			return nil, "", s.refuse(ctx, p, c, ReasonAlreadyLinked,
				"The matching account is already linked to another "+name+" account. Contact your administrator.")
		} else if !errs.Is(err, errs.NotFound) {
			return nil, "", err
		}
		u, err := s.finish(ctx, p, c, match.ID, NewLink)
		return u, NewLink, err
	}
	if p.Provisioning.Action != ActionAuto {
		return nil, "", s.refuse(ctx, p, c, ReasonUnknownUser,
			"There is no account for "+c.Email+" here, and accounts are not created from "+name+". Contact your administrator.")
	}
	profile, err := s.MapProfile(p, c.Raw)
	if err != nil {
		return nil, "", s.refuse(ctx, p, c, ReasonProvisioning, "Your account could not be created: the profile mapping of "+name+" failed. Contact your administrator.")
	}
	created, err := s.Directory.CreateUser(ctx, directory.CreateUserInput{
		Profile: directory.Profile(profile), GroupIDs: p.Provisioning.Groups, Activate: true, Provider: true,
	})
	if err != nil {
		if e, ok := errs.As(err); ok && e.Kind != errs.Internal {
			msg := e.Msg
			if len(e.Fields) > 0 {
				msg = e.Fields[0].Message
			}
			return nil, "", s.refuse(ctx, p, c, ReasonProvisioning, "Your account could not be created from your "+name+" profile: "+msg+". Contact your administrator.")
		}
		return nil, "", err
	}
	u, err := s.finish(ctx, p, c, created.ID, Created)
	return u, Created, err
}

// match finds the one existing person an unlinked account matches, or nil.
func (s *Service) match(ctx context.Context, p *IdP, c Claims) (*directory.User, error) {
	found := map[string]*directory.User{}
	if p.Subject.MatchType == MatchUsername || p.Subject.MatchType == MatchUsernameOrEmail {
		name, err := s.UserName(p, c.Raw)
		if err != nil {
			return nil, &Failure{Reason: ReasonProvisioning, Message: "The username template of " + p.Name + " failed. Contact your administrator."}
		}
		if name != "" {
			u, err := s.Directory.Store.User(ctx, name)
			if err == nil && strings.EqualFold(u.Login(), name) {
				found[u.ID] = u
			} else if err != nil && !errs.Is(err, errs.NotFound) {
				return nil, err
			}
		}
	}
	if p.Subject.MatchType == MatchEmail || p.Subject.MatchType == MatchUsernameOrEmail {
		us, err := s.Directory.Store.Users(ctx, directory.UserQuery{
			Search: &filter.Compare{Attr: "profile.email", Op: filter.OpEq, Value: filter.StringValue(c.Email)},
			Limit:  3, IncludeDeprovisioned: true,
		})
		if err != nil {
			return nil, err
		}
		for _, u := range us {
			if strings.EqualFold(u.Profile.String("email"), c.Email) {
				found[u.ID] = u
			}
		}
	}
	switch len(found) {
	case 0:
		return nil, nil
	case 1:
		for _, u := range found {
			return u, nil
		}
	}
	return nil, &Failure{Reason: ReasonAmbiguous, Message: "More than one account matches your " + p.Name + " account. Contact your administrator."}
}

func (s *Service) inAnyGroup(ctx context.Context, userID string, groups []string) (bool, error) {
	gs, err := s.Directory.Store.UserGroups(ctx, userID)
	if err != nil {
		return false, err
	}
	for _, g := range gs {
		if slices.Contains(groups, g.ID) {
			return true, nil
		}
	}
	return false, nil
}

// finish writes the link, the last sign-in and the success events in one
// transaction, after checking the person may sign in.
func (s *Service) finish(ctx context.Context, p *IdP, c Claims, userID string, how Outcome) (*directory.User, error) {
	var out *directory.User
	notActive := false
	err := s.Directory.Store.Update(ctx, func(tx directory.Tx) error {
		notActive = false
		lt, ok := tx.(LinkTx)
		if !ok {
			return errors.New("federation: the directory transaction cannot write links")
		}
		u, err := tx.UserForUpdate(userID)
		if err != nil {
			return err
		}
		if !directory.CanSignIn(u.Status) {
			notActive = true
			return nil
		}
		now := s.now()
		u.LastLogin = &now
		if err := tx.UpdateUser(u); err != nil {
			return err
		}
		claims := profileClaims(c.Raw)
		if err := lt.PutLink(&Link{IdPID: p.ID, UserID: u.ID, ExternalID: c.Subject, Profile: claims, Created: now, LastUpdated: now}); err != nil {
			return err
		}
		target := audit.UserTarget(u.ID, u.Login(), u.DisplayName())
		ev := s.Events.New(ctx, "user.authentication.auth_via_IDP", "Authenticate user via IDP", audit.Success, target, IdPTarget(p))
		ev.Debug = map[string]string{"idpType": string(p.Type), "idpId": p.ID, "link": string(how)}
		if err := tx.Append(ev); err != nil {
			return err
		}
		if how == NewLink {
			if err := tx.Append(s.Events.New(ctx, "user.identity_provider.link", "Link user to identity provider", audit.Success, target, IdPTarget(p))); err != nil {
				return err
			}
		}
		start := s.Events.New(ctx, "user.session.start", "User login to Okta", audit.Success, target)
		start.Debug = map[string]string{"authnMethod": "FEDERATION", "idpId": p.ID}
		if err := tx.Append(start); err != nil {
			return err
		}
		out = u
		return nil
	})
	if err != nil {
		return nil, err
	}
	if notActive {
		return nil, s.refuse(ctx, p, c, ReasonNotActive, "Your account is not active. Contact your administrator.")
	}
	return out, nil
}

// profileClaims keeps the claims that describe the person, dropping the
// token's own (audience, times, nonce, hashes).
func profileClaims(raw map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range raw {
		switch k {
		case "iss", "aud", "exp", "iat", "nbf", "nonce", "at_hash", "c_hash", "azp", "auth_time", "jti", "sid":
			continue
		}
		out[k] = v
	}
	return out
}
