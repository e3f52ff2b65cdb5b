// Package sso is the SAML single sign-on surface: the per-app SSO and SLO
// endpoints (SP-initiated through HTTP-Redirect and HTTP-POST,
// IdP-initiated from the dashboard link), the public IdP metadata, and the
// decisions between a request and a response: is the person signed in,
// assigned, allowed; which NameID and attributes they get. The SAML
// protocol itself (parsing, signing, encryption) is in samlidp.
package sso

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/catalog"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/expr"
	"github.com/gatehouse/gatehouse/internal/ids"
	"github.com/gatehouse/gatehouse/internal/login"
	"github.com/gatehouse/gatehouse/internal/policy"
	"github.com/gatehouse/gatehouse/internal/samlidp"
	"github.com/gatehouse/gatehouse/internal/session"
	"github.com/gatehouse/gatehouse/internal/web"
)

// Attributor supplies the attributes (and checks the entitlements) of an
// integration, such as AWS: it replaces the app's attribute statements
// for apps of its template name.
type Attributor interface {
	// ACS returns the assertion consumer service of the app ("" for the
	// configured ssoAcsUrl).
	ACS(a *catalog.App) string
	// DefaultRelayState is used when the app sets none ("" for none).
	DefaultRelayState(a *catalog.App) string
	Attributes(ctx context.Context, in AttributeInput) ([]samlidp.Attribute, error)
}

// AttributeInput is what an Attributor gets.
type AttributeInput struct {
	App        *catalog.App
	User       *directory.User
	Assignment *catalog.Assignment
	Groups     []*directory.Group
}

// Refusal is an Attributor error whose Msg is shown to the person: no
// assertion is sent.
type Refusal struct {
	Title, Msg string
}

func (r *Refusal) Error() string { return r.Msg }

// SignOnRules are the sign-on rules of apps (policy.Service implements
// them): evaluated before every assertion is sent.
type SignOnRules interface {
	EvaluateApp(ctx context.Context, appID string, groupIDs []string, lastFactor time.Time) (policy.Decision, error)
	Log(ctx context.Context, d policy.Decision, targets ...audit.Target) error
}

// EventLog appends events that record no other change.
type EventLog interface {
	Append(ctx context.Context, ev audit.Event) error
}

// Surface serves SSO.
type Surface struct {
	BaseURL     string
	Catalog     *catalog.Service
	Directory   *directory.Service
	Login       *login.Surface
	Sessions    session.Store
	Expr        *expr.Engine
	Events      audit.Builder
	Log         EventLog
	Logger      *slog.Logger
	IDs         *ids.Source
	Now         func() time.Time
	AllowLegacy bool
	// Integrations maps an app template name to its Attributor.
	Integrations map[string]Attributor
	// PendingTTL bounds how long a request waits for sign-in.
	PendingTTL time.Duration
	// Rules are the apps' sign-on rules; nil allows everyone assigned.
	Rules SignOnRules

	mu      sync.Mutex
	idps    map[string]*samlidp.IdP
	signers map[string]*samlidp.IdP
	apps    map[string]*catalog.App // by id, each at the version it was read
}

// app returns the current state of an app by id (byKey false) or external
// key. Decoding an app's settings is a large part of a sign-on, and apps
// change rarely, so the decoded app is kept and reused while its version
// in the store (one small read per request, on any node) is unchanged:
// every change made anywhere is seen by the next request. The returned
// app is shared: read it, never change it.
func (s *Surface) app(ctx context.Context, idOrKey string, byKey bool) (*catalog.App, error) {
	id, version, err := s.Catalog.Store.AppVersion(ctx, idOrKey, byKey)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	a, ok := s.apps[id]
	s.mu.Unlock()
	if ok && a.Version == version {
		return a, nil
	}
	if a, err = s.Catalog.Store.App(ctx, id); err != nil {
		return nil, err
	}
	s.mu.Lock()
	if s.apps == nil || len(s.apps) > 10000 {
		s.apps = map[string]*catalog.App{}
	}
	if cur, ok := s.apps[id]; !ok || cur.Version < a.Version {
		s.apps[id] = a
	}
	s.mu.Unlock()
	return a, nil
}

// AutoSubmitPath serves the script that submits SAML forms.
const AutoSubmitPath = "/static/saml-autosubmit.js"

// Mount registers the routes.
func (s *Surface) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET "+AutoSubmitPath, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Write([]byte(samlidp.AutoSubmitJS))
	})
	mux.HandleFunc("GET /app/{name}/{key}/sso/saml", s.ssoGet)
	mux.HandleFunc("POST /app/{name}/{key}/sso/saml", s.ssoPost)
	mux.HandleFunc("GET /app/{name}/{key}/slo/saml", s.slo)
	mux.HandleFunc("POST /app/{name}/{key}/slo/saml", s.slo)
	mux.HandleFunc("GET /sso/continue/{id}", s.resume)
	mux.HandleFunc("GET /home/{name}/{appId}/{link}", s.launch)
	mux.HandleFunc("GET /app/{key}/sso/saml/metadata", s.publicMetadata)
}

func (s *Surface) loopback() bool {
	u, err := url.Parse(s.BaseURL)
	return err == nil && u.Scheme == "http"
}

// idp returns the (cached) IdP of an app for its current keys.
func (s *Surface) idp(ctx context.Context, a *catalog.App) (*samlidp.IdP, error) {
	idp, _, err := s.idpKid(ctx, a)
	return idp, err
}

// idpKid is idp, also returning the kid of the active key.
func (s *Surface) idpKid(ctx context.Context, a *catalog.App) (*samlidp.IdP, string, error) {
	active, published, err := s.Catalog.SigningKeys(ctx, a.ID)
	if err != nil {
		return nil, "", err
	}
	var extra []*x509.Certificate
	key := a.ID + "|" + a.EntityID(s.BaseURL) + "|" + active.Kid
	for _, c := range published {
		if c.Equal(active.Certificate) {
			continue
		}
		extra = append(extra, c)
		key += "|" + string(c.SubjectKeyId) + c.SerialNumber.String()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if idp, ok := s.idps[key]; ok {
		return idp, active.Kid, nil
	}
	idp, err := samlidp.NewIdP(samlidp.IdPConfig{
		EntityID:           a.EntityID(s.BaseURL),
		SSOURL:             s.BaseURL + a.SSOPath(),
		SLOURL:             s.BaseURL + sloPath(a),
		SigningKey:         active.Key,
		SigningCertificate: active.Certificate,
		ExtraCertificates:  extra,
		AllowLegacyKey:     s.AllowLegacy,
		Now:                s.Now,
		AllowLoopbackHTTP:  s.loopback(),
	})
	if err != nil {
		return nil, "", err
	}
	if s.idps == nil || len(s.idps) > 10000 {
		s.idps = map[string]*samlidp.IdP{}
	}
	s.idps[key] = idp
	return idp, active.Kid, nil
}

// signer returns the IdP that signs an app's responses with its active
// key. The app row the caller read names the active key (kid), and a key's
// material never changes under its kid, so the IdP built for (app, entity
// ID, kid) is reused without reading the keys again; a rollover changes
// the kid in the app row and so takes effect with the next request on
// every node. Metadata, which also lists the published next keys, reads
// them every time (idp).
func (s *Surface) signer(ctx context.Context, a *catalog.App) (*samlidp.IdP, error) {
	key := a.ID + "|" + a.EntityID(s.BaseURL) + "|" + a.Credentials.SigningKid
	s.mu.Lock()
	idp, ok := s.signers[key]
	s.mu.Unlock()
	if ok {
		return idp, nil
	}
	idp, kid, err := s.idpKid(ctx, a)
	if err != nil {
		return nil, err
	}
	if kid != a.Credentials.SigningKid {
		return idp, nil // the app changed keys between two reads: do not cache
	}
	s.mu.Lock()
	if s.signers == nil || len(s.signers) > 10000 {
		s.signers = map[string]*samlidp.IdP{}
	}
	s.signers[key] = idp
	s.mu.Unlock()
	return idp, nil
}

// replayKey is the replay-cache key of a signed request: the request's
// own key (issuer and ID, separated by a NUL) is hashed, so that the key
// is plain text of a fixed length on every database (PostgreSQL refuses
// text holding a NUL byte).
func replayKey(kind string, a *catalog.App, requestKey string) string {
	return kind + ":" + a.ID + ":" + session.Hash(requestKey)
}

func sloPath(a *catalog.App) string { return "/app/" + a.Name + "/" + a.ExternalKey + "/slo/saml" }

// sp returns the service provider view of an app.
func (s *Surface) sp(a *catalog.App) (*samlidp.ServiceProvider, error) {
	acs := a.Settings.SignOn.SSOAcsURL
	if in, ok := s.Integrations[a.Name]; ok {
		if v := in.ACS(a); v != "" {
			acs = v
		}
	}
	return serviceProvider(a, acs, s.AllowLegacy, s.loopback())
}

// appByPath finds the active app named by an SSO URL.
func (s *Surface) appByPath(ctx context.Context, name, key string) (*catalog.App, error) {
	a, err := s.app(ctx, key, true)
	if err != nil {
		return nil, err
	}
	if a.Name != name {
		return nil, errs.NotFoundf("no such app")
	}
	return a, nil
}

// pending is an SSO request waiting for sign-in, stored between requests.
type pending struct {
	AppID        string `json:"appId"`
	InResponseTo string `json:"inResponseTo,omitempty"`
	ACSURL       string `json:"acs,omitempty"`
	RelayState   string `json:"relayState,omitempty"`
	ForceAuthn   bool   `json:"forceAuthn,omitempty"`
	IsPassive    bool   `json:"isPassive,omitempty"`
	NameIDFormat string `json:"nameIdFormat,omitempty"`
	// Requested is the request's RequestedAuthnContext (nil: none),
	// answered against the session when the assertion is built.
	Requested *samlidp.RequestedAuthnContext `json:"requestedAuthnContext,omitempty"`
	// SteppedUp records that the session was already asked for a second
	// factor for the requested context: it is not asked again.
	SteppedUp    bool      `json:"steppedUp,omitempty"`
	Created      time.Time `json:"created"`
	IdPInitiated bool      `json:"idpInitiated,omitempty"`
}

func (s *Surface) page(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	s.Login.Message(w, r, status, title, msg, "")
}

// ssoGet is either an SP-initiated HTTP-Redirect request (SAMLRequest in
// the query) or an IdP-initiated launch (Okta's GET of the SSO URL).
func (s *Surface) ssoGet(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("SAMLRequest") == "" {
		a, err := s.appByPath(r.Context(), r.PathValue("name"), r.PathValue("key"))
		if err != nil {
			s.page(w, r, http.StatusNotFound, "App not found", "This sign-in link does not belong to any application.")
			return
		}
		s.idpInitiated(w, r, a)
		return
	}
	s.spInitiated(w, r, false)
}

func (s *Surface) ssoPost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 512<<10)
	if err := r.ParseForm(); err != nil {
		s.page(w, r, http.StatusBadRequest, "Sign-in request refused", "The sign-in request is too large or malformed.")
		return
	}
	s.spInitiated(w, r, true)
}

func (s *Surface) intake(a *catalog.App) *samlidp.Intake {
	return &samlidp.Intake{
		Lookup: func(issuer string) (*samlidp.ServiceProvider, error) {
			sp, err := s.sp(a)
			if err != nil {
				return nil, err
			}
			so := a.Settings.SignOn
			if issuer == so.Audience || (so.SPIssuer != "" && issuer == so.SPIssuer) || (so.SLO.Issuer != "" && issuer == so.SLO.Issuer) {
				return sp, nil
			}
			return nil, nil
		},
		Destinations: []string{s.BaseURL + a.SSOPath(), s.BaseURL + sloPath(a)},
		Now:          s.Now,
	}
}

func (s *Surface) spInitiated(w http.ResponseWriter, r *http.Request, post bool) {
	ctx := r.Context()
	a, err := s.appByPath(ctx, r.PathValue("name"), r.PathValue("key"))
	if err != nil {
		s.page(w, r, http.StatusNotFound, "App not found", "This sign-in address does not belong to any application.")
		return
	}
	if a.Status != catalog.Active {
		s.page(w, r, http.StatusForbidden, "App not available", "This application is not active. Contact your administrator.")
		return
	}
	in := s.intake(a)
	var req *samlidp.AuthnRequest
	var sp *samlidp.ServiceProvider
	if post {
		req, sp, err = in.ParsePostRequest(r.PostForm)
	} else {
		req, sp, err = in.ParseRedirectRequest(r.URL.RawQuery)
	}
	if err != nil {
		s.refuse(ctx, a, "", err)
		s.page(w, r, http.StatusBadRequest, "Sign-in request refused", requestProblem(err))
		return
	}
	if req.Signed {
		fresh, err := s.Sessions.Remember(ctx, replayKey("authn", a, req.ReplayKey()), req.ReplayExpiresAt)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if !fresh {
			s.refuse(ctx, a, "", errors.New("replayed AuthnRequest "+req.ID))
			s.page(w, r, http.StatusBadRequest, "Sign-in request refused", "This sign-in request was already used. Start again from the application.")
			return
		}
	}
	acs, err := sp.ResolveACS(req)
	p := pending{AppID: a.ID, InResponseTo: req.ID, ACSURL: acs, RelayState: req.RelayState,
		ForceAuthn: sp.RequiresFreshLogin(req), IsPassive: req.IsPassive, Created: s.Now().UTC()}
	if err != nil {
		s.refuse(ctx, a, "", err)
		// A registered ACS that cannot be answered the way the request
		// asks (another response binding) gets the SAML status; an ACS
		// that is not registered gets nothing.
		var re *samlidp.RequestError
		if errors.As(err, &re) && re.Respondable && acs != "" {
			s.sendError(w, r, a, p, re.Status, re.SubStatus)
			return
		}
		s.page(w, r, http.StatusBadRequest, "Sign-in request refused", "The application asked to receive the answer at an address that is not registered for it.")
		return
	}
	if f, err := sp.CheckNameIDPolicy(req); err != nil {
		s.sendError(w, r, a, p, samlidp.StatusRequester, samlidp.StatusInvalidNameIDPolicy)
		return
	} else {
		p.NameIDFormat = f
	}
	// A requested context that no authentication Gatehouse can perform
	// satisfies (not even after a second factor) is answered at once.
	if _, err := sp.ChooseAuthnContext(req.RequestedAuthnContext, samlidp.MaxStrength); err != nil {
		s.refuse(ctx, a, "", fmt.Errorf("RequestedAuthnContext %s %v: %w", req.RequestedAuthnContext.Comparison, req.RequestedAuthnContext.ClassRefs, err))
		s.sendError(w, r, a, p, samlidp.StatusRequester, samlidp.StatusNoAuthnContext)
		return
	}
	p.Requested = req.RequestedAuthnContext
	s.park(w, r, p)
}

// park stores the request and continues with a same-site GET, so that the
// (SameSite=Lax) session cookie is sent even when the SP posted to us.
func (s *Surface) park(w http.ResponseWriter, r *http.Request, p pending) {
	id, err := s.store(r.Context(), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/sso/continue/"+id, http.StatusSeeOther)
}

// store keeps a request for /sso/continue/{id}.
func (s *Surface) store(ctx context.Context, p pending) (string, error) {
	body, _ := json.Marshal(p)
	id := web.NewID(18)
	ttl := s.PendingTTL
	if ttl == 0 {
		ttl = 15 * time.Minute
	}
	return id, s.Sessions.PutPending(ctx, id, body, p.Created.Add(ttl))
}

func requestProblem(err error) string {
	var re *samlidp.RequestError
	if errors.As(err, &re) && re.Msg != "" {
		return "The application's sign-in request was refused: " + re.Msg
	}
	return "The application's sign-in request could not be accepted."
}

func (s *Surface) resume(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	body, err := s.Sessions.Pending(ctx, id)
	if err != nil {
		s.page(w, r, http.StatusBadRequest, "Sign-in expired", "This sign-in request has expired. Start again from the application.")
		return
	}
	var p pending
	if err := json.Unmarshal(body, &p); err != nil {
		s.fail(w, r, err)
		return
	}
	a, err := s.app(ctx, p.AppID, false)
	if err != nil {
		s.page(w, r, http.StatusNotFound, "App not found", "The application no longer exists.")
		return
	}
	sess, u, err := s.Login.Current(r)
	fresh := err == nil && (!p.ForceAuthn || !sess.AuthTime.Before(p.Created.Truncate(time.Millisecond)))
	if !fresh {
		if err != nil && !errors.Is(err, session.ErrNoSession) {
			s.fail(w, r, err)
			return
		}
		if p.IsPassive {
			_ = s.Sessions.DeletePending(ctx, id)
			s.sendError(w, r, a, p, samlidp.StatusResponder, samlidp.StatusNoPassive)
			return
		}
		next := "/login?next=" + url.QueryEscape("/sso/continue/"+id)
		if p.ForceAuthn {
			next += "&prompt=login"
		}
		http.Redirect(w, r, next, http.StatusFound)
		return
	}
	_ = s.Sessions.DeletePending(ctx, id)
	s.respond(w, r, a, sess, u, p)
}

// launch is the dashboard link: IdP-initiated sign-in.
func (s *Surface) launch(w http.ResponseWriter, r *http.Request) {
	a, err := s.app(r.Context(), r.PathValue("appId"), false)
	if err != nil || a.Name != r.PathValue("name") {
		s.page(w, r, http.StatusNotFound, "App not found", "This link does not belong to any application.")
		return
	}
	s.idpInitiated(w, r, a)
}

// launchToken is the one-time sessionToken of the Authentication API that
// an app's launch link may carry, as Okta's embed links take it
// (sessionToken, or onetimetoken as older clients send it).
func launchToken(r *http.Request) string {
	q := r.URL.Query()
	if t := q.Get("sessionToken"); t != "" {
		return t
	}
	return q.Get("onetimetoken")
}

func (s *Surface) idpInitiated(w http.ResponseWriter, r *http.Request, a *catalog.App) {
	var sess *session.Session
	var u *directory.User
	var err error
	if token := launchToken(r); token != "" {
		// The token signs this browser in first, exactly as
		// /login/sessionCookieRedirect would; from another site only
		// after a click that names the account. An app that would refuse
		// the launch leaves the token unused.
		if a.Status != catalog.Active {
			s.page(w, r, http.StatusForbidden, "App not available", "This application is not active. Contact your administrator.")
			return
		}
		if login.OtherSite(r) {
			who := s.Login.SessionTokenLogin(r.Context(), token)
			if who == "" {
				s.page(w, r, http.StatusUnauthorized, "Sign In", login.ErrSessionToken.Msg)
				return
			}
			s.Login.Confirm(w, r, "Continue to "+a.Label, "Another site is signing this browser in as "+who+" to open "+a.Label+". Continue only if that is you and you meant to open it.",
				r.URL.RequestURI(), "Continue to "+a.Label)
			return
		}
		if sess, u, err = s.Login.RedeemSessionToken(w, r, token); err != nil {
			if errors.Is(err, login.ErrSessionToken) {
				s.page(w, r, http.StatusUnauthorized, "Sign In", login.ErrSessionToken.Msg)
				return
			}
			s.fail(w, r, err)
			return
		}
	} else if sess, u, err = s.Login.Current(r); err != nil {
		if !errors.Is(err, session.ErrNoSession) {
			s.fail(w, r, err)
			return
		}
		s.Login.RedirectToSignIn(w, r, r.URL.RequestURI())
		return
	}
	if a.Status != catalog.Active {
		s.page(w, r, http.StatusForbidden, "App not available", "This application is not active. Contact your administrator.")
		return
	}
	// A launch that another site started (a link or a script there: the
	// browser says Sec-Fetch-Site: cross-site) waits for a click on a
	// Gatehouse page, so that no site can sign a person into an app, or
	// pick the relay state, without them. Links followed from the
	// dashboard, bookmarks, typed addresses and clients that send no
	// Fetch Metadata go straight on.
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		s.Login.Confirm(w, r, "Continue to "+a.Label, "Another site sent you here to sign in to "+a.Label+". Continue only if you meant to open it.",
			r.URL.RequestURI(), "Continue to "+a.Label)
		return
	}
	relay := a.Settings.SignOn.DefaultRelayState
	if in, ok := s.Integrations[a.Name]; ok && relay == "" {
		relay = in.DefaultRelayState(a)
	}
	if q := r.URL.Query(); q.Has("RelayState") {
		rs := q.Get("RelayState")
		if err := s.checkRelayState(a, rs); err != nil {
			s.page(w, r, http.StatusBadRequest, "Sign-in refused", err.Error())
			return
		}
		relay = rs
	}
	s.respond(w, r, a, sess, u, pending{AppID: a.ID, RelayState: relay, Created: s.Now().UTC(), IdPInitiated: true})
}

var awsConsoleHost = regexp.MustCompile(`^([a-z0-9-]+\.)*(aws\.amazon\.com|amazonaws\.cn|amazonaws-us-gov\.com)$`)

// checkRelayState allows a RelayState override only where it cannot make
// Gatehouse an open redirector: for AWS apps, AWS console addresses (or
// the configured sign-in host); for other apps, https URLs on the host of
// the app's ACS, or opaque values without a scheme.
func (s *Surface) checkRelayState(a *catalog.App, rs string) error {
	if len(rs) > samlidp.MaxRelayStateLength {
		return errors.New("The RelayState is too long.")
	}
	u, err := url.Parse(rs)
	if err != nil {
		return errors.New("The RelayState is not a valid value.")
	}
	if u.Scheme == "" && u.Host == "" && !strings.HasPrefix(rs, "//") && !strings.HasPrefix(rs, `\`) {
		if _, isInt := s.Integrations[a.Name]; !isInt {
			return nil // opaque SP state
		}
	}
	sp, err := s.sp(a)
	if err != nil {
		return err
	}
	acsHost := ""
	if au, err := url.Parse(sp.ACSURL); err == nil {
		acsHost = au.Host
	}
	if u.Scheme == "https" && (awsConsoleHost.MatchString(u.Hostname()) && s.Integrations[a.Name] != nil || u.Host == acsHost) {
		return nil
	}
	if u.Scheme == "http" && u.Host == acsHost && s.loopback() {
		return nil
	}
	return errors.New("The RelayState must be an address of the application itself.")
}

// respond decides and answers for a signed-in person.
func (s *Surface) respond(w http.ResponseWriter, r *http.Request, a *catalog.App, sess *session.Session, u *directory.User, p pending) {
	ctx := r.Context()
	target := []audit.Target{audit.AppTarget(a.ID, a.Name, a.Label), audit.UserTarget(u.ID, u.Login(), u.DisplayName())}
	if a.Status != catalog.Active {
		s.page(w, r, http.StatusForbidden, "App not available", "This application is not active. Contact your administrator.")
		return
	}
	asg, err := s.Catalog.AssignmentOf(ctx, a, u)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			ev := s.Events.New(ctx, "app.generic.unauth_app_access_attempt", "User attempted unauthorized access to app", audit.Failure, target...)
			ev.Outcome.Reason = "USER_NOT_ASSIGNED"
			_ = s.Log.Append(ctx, ev)
			s.page(w, r, http.StatusForbidden, "Not assigned", fmt.Sprintf("You are not assigned to %s. Ask your administrator to assign it to you.", a.Label))
			return
		}
		s.fail(w, r, err)
		return
	}
	sp, err := s.sp(a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	groups, err := s.Directory.Store.UserGroups(ctx, u.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	decision, done := s.checkRules(w, r, a, sess, p, groups, target)
	if done {
		return
	}
	classRef, done := s.authnContext(w, r, a, sp, sess, p, target)
	if done {
		return
	}
	nameID, attrs, err := s.subjectAndAttributes(ctx, a, u, asg, groups)
	if err != nil {
		var ref *Refusal
		if errors.As(err, &ref) {
			ev := s.Events.New(ctx, "user.authentication.sso", "User single sign on to app", audit.Failure, target...)
			ev.Outcome.Reason = ref.Msg
			_ = s.Log.Append(ctx, ev)
			s.page(w, r, http.StatusForbidden, ref.Title, ref.Msg)
			return
		}
		s.fail(w, r, err)
		return
	}
	idp, err := s.signer(ctx, a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	xml, err := idp.BuildResponse(samlidp.ResponseInput{
		SP: sp, ACSURL: p.ACSURL, InResponseTo: p.InResponseTo, NameID: nameID, NameIDFormat: p.NameIDFormat,
		SessionIndex: sess.ID, AuthnInstant: sess.AuthTime, SessionNotOnOrAfter: sess.Expires,
		AuthnContextClassRef: classRef, Attributes: attrs,
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	acs := p.ACSURL
	if acs == "" {
		acs = sp.ACSURL
	}
	// The assertion leaves only once its event is on record (Log commits
	// it, possibly together with other responses' events, before it
	// returns): an unrecorded sign-on fails closed.
	ev := s.Events.New(ctx, "user.authentication.sso", "User single sign on to app", audit.Success, target...)
	if decision.PolicyID != "" {
		ev.Debug = map[string]string{"policyId": decision.PolicyID, "ruleId": decision.RuleID}
	}
	s.postLogged(w, r, acs, "SAMLResponse", xml, p.RelayState, &ev)
}

// checkRules evaluates the app's sign-on rules for the session. A denial
// answers with a refusal page; a rule that wants a second factor parks the
// request and steps the session up, after which the same flow continues
// at /sso/continue. It reports whether it answered.
func (s *Surface) checkRules(w http.ResponseWriter, r *http.Request, a *catalog.App, sess *session.Session, p pending, groups []*directory.Group, target []audit.Target) (policy.Decision, bool) {
	if s.Rules == nil {
		return policy.Decision{Outcome: policy.Allow}, false
	}
	ctx := r.Context()
	gids := make([]string, len(groups))
	for i, g := range groups {
		gids[i] = g.ID
	}
	d, err := s.Rules.EvaluateApp(ctx, a.ID, gids, sess.MFATime)
	if err != nil {
		s.fail(w, r, err)
		return d, true
	}
	switch d.Outcome {
	case policy.Allow:
		return d, false
	case policy.Challenge:
		_ = s.Rules.Log(ctx, d, target...)
		if p.IsPassive {
			s.sendError(w, r, a, p, samlidp.StatusResponder, samlidp.StatusNoPassive)
			return d, true
		}
		id, err := s.store(ctx, p)
		if err != nil {
			s.fail(w, r, err)
			return d, true
		}
		s.Login.StepUp(w, r, sess, "/sso/continue/"+id)
		return d, true
	default:
		_ = s.Rules.Log(ctx, d, target...)
		s.page(w, r, http.StatusForbidden, "Sign-in refused", fmt.Sprintf("Your organization's sign-on rules do not allow you to use %s. Contact your administrator.", a.Label))
		return d, true
	}
}

// sessionStrength is how strongly a session authenticated its person: a
// verified second factor (or a passkey that verified the person) is
// multi-factor; every other Gatehouse sign-in is a password-equivalent
// over the protected transport of the sign-in pages.
func sessionStrength(sess *session.Session) samlidp.Strength {
	if !sess.MFATime.IsZero() || slices.Contains(sess.AMR, "mfa") {
		return samlidp.StrengthMultiFactor
	}
	return samlidp.StrengthProtectedPassword
}

// authnContext answers the request's RequestedAuthnContext for the
// session: the class to assert, or, when the session is too weak, a
// step-up to a second factor (once, and never for a passive request:
// NoPassive) or a Requester/NoAuthnContext response. It reports whether
// it answered.
func (s *Surface) authnContext(w http.ResponseWriter, r *http.Request, a *catalog.App, sp *samlidp.ServiceProvider, sess *session.Session, p pending, target []audit.Target) (string, bool) {
	have := sessionStrength(sess)
	classRef, err := sp.ChooseAuthnContext(p.Requested, have)
	if err == nil {
		return classRef, false
	}
	ctx := r.Context()
	if _, stronger := sp.ChooseAuthnContext(p.Requested, samlidp.MaxStrength); stronger == nil && have < samlidp.MaxStrength && !p.SteppedUp {
		if p.IsPassive {
			s.sendError(w, r, a, p, samlidp.StatusResponder, samlidp.StatusNoPassive)
			return "", true
		}
		p.SteppedUp = true
		id, err := s.store(ctx, p)
		if err != nil {
			s.fail(w, r, err)
			return "", true
		}
		s.Login.StepUp(w, r, sess, "/sso/continue/"+id)
		return "", true
	}
	ev := s.Events.New(ctx, "user.authentication.sso", "User single sign on to app", audit.Failure, target...)
	ev.Outcome.Reason = "NO_AUTHN_CONTEXT"
	_ = s.Log.Append(ctx, ev)
	s.sendError(w, r, a, p, samlidp.StatusRequester, samlidp.StatusNoAuthnContext)
	return "", true
}

// expressionEnv is what the app's expressions see of a person.
func (s *Surface) expressionEnv(a *catalog.App, u *directory.User, asg *catalog.Assignment, groups []*directory.Group) (expr.Env, []string) {
	names := make([]string, len(groups))
	gids := make([]string, len(groups))
	for i, g := range groups {
		names[i], gids[i] = g.Name, g.ID
	}
	userEnv := map[string]any{}
	for k, v := range u.Profile {
		userEnv[k] = v
	}
	userEnv["id"], userEnv["status"], userEnv["userName"] = u.ID, string(u.Status), asg.UserName
	env := expr.Env{User: userEnv, AppUser: asg.Profile, App: a.Settings.App, Groups: names, GroupIDs: gids, Now: s.Now,
		Org: map[string]any{"name": "Gatehouse", "externalKey": a.ExternalKey}}
	return env, names
}

// nameID is the person's NameID at the app: the subjectNameIdTemplate, or
// the app username.
func (s *Surface) nameID(a *catalog.App, asg *catalog.Assignment, env expr.Env) (string, error) {
	nameID := asg.UserName
	if t := a.Settings.SignOn.SubjectNameIDTemplate; t != "" {
		prog, err := s.Expr.Compile(t)
		if err != nil {
			return "", fmt.Errorf("subjectNameIdTemplate: %w", err)
		}
		v, err := prog.String(env)
		if err != nil {
			return "", fmt.Errorf("subjectNameIdTemplate: %w", err)
		}
		nameID = v
	}
	if strings.TrimSpace(nameID) == "" {
		return "", &Refusal{Title: "Sign-in refused", Msg: "Your account has no username for this application. Contact your administrator."}
	}
	return nameID, nil
}

// subjectAndAttributes computes the NameID and the attributes.
func (s *Surface) subjectAndAttributes(ctx context.Context, a *catalog.App, u *directory.User, asg *catalog.Assignment, groups []*directory.Group) (string, []samlidp.Attribute, error) {
	env, names := s.expressionEnv(a, u, asg, groups)
	nameID, err := s.nameID(a, asg, env)
	if err != nil {
		return "", nil, err
	}
	if in, ok := s.Integrations[a.Name]; ok {
		attrs, err := in.Attributes(ctx, AttributeInput{App: a, User: u, Assignment: asg, Groups: groups})
		if err != nil {
			return "", nil, err
		}
		extra, err := s.statements(a, env, names)
		return nameID, append(attrs, extra...), err
	}
	attrs, err := s.statements(a, env, names)
	return nameID, attrs, err
}

func (s *Surface) statements(a *catalog.App, env expr.Env, groupNames []string) ([]samlidp.Attribute, error) {
	var out []samlidp.Attribute
	for _, st := range a.Settings.SignOn.AttributeStatements {
		at := samlidp.Attribute{Name: st.Name, NameFormat: st.Namespace}
		switch st.Type {
		case catalog.StatementGroup:
			match, err := catalog.CompileGroupFilter(st)
			if err != nil {
				return nil, err
			}
			for _, g := range groupNames {
				if match(g) {
					at.Values = append(at.Values, g)
				}
			}
		default:
			for _, v := range st.Values {
				prog, err := s.Expr.Compile(v)
				if err != nil {
					return nil, fmt.Errorf("attribute %s: %w", st.Name, err)
				}
				vals, err := prog.Strings(env)
				if err != nil {
					return nil, fmt.Errorf("attribute %s: %w", st.Name, err)
				}
				at.Values = append(at.Values, vals...)
			}
		}
		if len(at.Values) > 0 {
			out = append(out, at)
		}
	}
	return out, nil
}

func (s *Surface) post(w http.ResponseWriter, r *http.Request, target, param string, xml []byte, relay string) {
	s.postLogged(w, r, target, param, xml, relay, nil)
}

// postLogged renders the HTTP-POST form and, when ev is given, records ev
// before anything is written: if the event cannot be recorded the person
// gets an error page and the SP nothing.
func (s *Surface) postLogged(w http.ResponseWriter, r *http.Request, target, param string, xml []byte, relay string, ev *audit.Event) {
	page, err := samlidp.RenderPostForm(samlidp.PostForm{URL: target, AllowLoopbackHTTP: s.loopback(), MessageParam: param,
		Message: base64.StdEncoding.EncodeToString(xml), RelayState: relay, ScriptPath: AutoSubmitPath})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if ev != nil {
		if err := s.Log.Append(r.Context(), *ev); err != nil {
			s.fail(w, r, fmt.Errorf("record the sign-on: %w", err))
			return
		}
	}
	u, _ := url.Parse(target)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Content-Security-Policy", strings.Replace(web.CSP, "form-action 'self'", "form-action "+u.Scheme+"://"+u.Host, 1))
	h.Set("Content-Length", strconv.Itoa(len(page)))
	w.Write(page)
}

// sendError answers the SP with a SAML error status at a resolved ACS.
func (s *Surface) sendError(w http.ResponseWriter, r *http.Request, a *catalog.App, p pending, status, sub string) {
	sp, err := s.sp(a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	idp, err := s.idp(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	xml, err := idp.BuildErrorResponse(samlidp.ErrorResponseInput{SP: sp, ACSURL: p.ACSURL, InResponseTo: p.InResponseTo, Status: status, SubStatus: sub})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	acs := p.ACSURL
	if acs == "" {
		acs = sp.ACSURL
	}
	s.post(w, r, acs, "SAMLResponse", xml, p.RelayState)
}

func (s *Surface) refuse(ctx context.Context, a *catalog.App, userID string, cause error) {
	ev := s.Events.New(ctx, "app.auth.sso.request.refused", "SAML request refused", audit.Failure, audit.AppTarget(a.ID, a.Name, a.Label))
	ev.Outcome.Reason = truncate(cause.Error(), 300)
	_ = s.Log.Append(ctx, ev)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func (s *Surface) fail(w http.ResponseWriter, r *http.Request, err error) {
	web.Logger(r.Context(), s.Logger).Error("sso", "err", err)
	s.page(w, r, http.StatusInternalServerError, "Something went wrong", "Sign-in to the application failed. Try again in a moment.")
}

func (s *Surface) publicMetadata(w http.ResponseWriter, r *http.Request) {
	a, err := s.Catalog.Store.AppByExternalKey(r.Context(), r.PathValue("key"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	s.WriteMetadata(w, r, a)
}

// WriteMetadata serves an app's IdP metadata as a downloadable file
// (application/xml).
func (s *Surface) WriteMetadata(w http.ResponseWriter, r *http.Request, a *catalog.App) {
	s.WriteMetadataAs(w, r, a, "application/xml; charset=utf-8")
}

// WriteMetadataAs is WriteMetadata with another media type: the management
// API's GET /api/v1/apps/{id}/sso/saml/metadata answers text/xml, the one
// type Okta's spec gives it.
func (s *Surface) WriteMetadataAs(w http.ResponseWriter, r *http.Request, a *catalog.App, contentType string) {
	idp, err := s.idp(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	md, err := samlidp.Metadata(idp, samlidp.MetadataOptions{WantAuthnRequestsSigned: a.Settings.SignOn.SAMLSignedRequestEnabled})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", `attachment; filename="metadata.xml"`)
	w.Write(md)
}
