// Package oidclogin serves sign-in with an external OpenID Connect
// provider (Google, LinkedIn, any OIDC provider configured in package
// federation): the start of the authorization code flow with PKCE, state
// and nonce (/sso/idps/{id}/start), and the redirect back
// (/oauth2/v1/authorize/callback), where the code is exchanged and the ID
// token fully validated by go-oidc (issuer, audience, expiry, signature
// against the provider's published keys) before federation decides who
// signs in. Every refusal is a plain page for the person and an event in
// the system log; none leaves a session behind.
package oidclogin

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/federation"
	"github.com/gatehouse/gatehouse/internal/login"
	"github.com/gatehouse/gatehouse/internal/session"
	"github.com/gatehouse/gatehouse/internal/web"
)

// CallbackPath is the redirect URI path to register with every provider.
const CallbackPath = "/oauth2/v1/authorize/callback"

// flowTTL is how long a started sign-in waits for the provider.
const flowTTL = 10 * time.Minute

// providerTTL is how long a discovery document is reused.
const providerTTL = 10 * time.Minute

const browserCookie = "gh_idp_flow"

// Handler serves the federated sign-in flow.
type Handler struct {
	BaseURL string
	IdPs    *federation.Service
	Login   *login.Surface
	// Pending keeps the started flows (state, nonce, PKCE verifier) and
	// the replay cache of used states.
	Pending session.Store
	// Client makes the calls to providers; nil means a client with a
	// 10-second timeout.
	Client *http.Client
	Now    func() time.Time
	Log    *slog.Logger
	// Issuers overrides the well-known issuers of social provider types
	// (a local provider stands in for Google in tests).
	Issuers map[federation.Type]string

	mu        sync.Mutex
	providers map[string]cachedProvider
}

type cachedProvider struct {
	p       *oidc.Provider
	fetched time.Time
}

// flow is the server-side record of a started sign-in.
type flow struct {
	IdP      string `json:"idp"`
	Nonce    string `json:"nonce"`
	Verifier string `json:"verifier"`
	Next     string `json:"next"`
	Browser  string `json:"browser"` // hash of the flow cookie
}

// Mount registers the routes.
func (h *Handler) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /sso/idps/{id}/start", h.start)
	mux.HandleFunc("GET /sso/idps/{id}", h.start)
	mux.HandleFunc("GET "+CallbackPath, h.callback)
}

func (h *Handler) client() *http.Client {
	if h.Client != nil {
		return h.Client
	}
	return &http.Client{Timeout: 10 * time.Second}
}

func (h *Handler) secure() bool { return strings.HasPrefix(h.BaseURL, "https://") }

func (h *Handler) ctx(r *http.Request) context.Context {
	ctx := audit.WithRequest(r.Context(), audit.Request{
		Actor:         audit.Actor{ID: "unknown", Type: "User", AlternateID: "unknown", DisplayName: "unknown"},
		Client:        audit.Client{IPAddress: web.ClientIP(r), UserAgent: r.UserAgent()},
		TransactionID: web.RequestID(r.Context()),
	})
	return oidc.ClientContext(ctx, h.client())
}

// Discover reads an issuer's discovery document (federation.Discoverer).
func (h *Handler) Discover(ctx context.Context, issuer string) (federation.Endpoints, error) {
	p, err := h.provider(oidc.ClientContext(ctx, h.client()), issuer, true)
	if err != nil {
		return federation.Endpoints{}, err
	}
	var doc struct {
		UserInfo string `json:"userinfo_endpoint"`
		JWKS     string `json:"jwks_uri"`
	}
	_ = p.Claims(&doc)
	ep := p.Endpoint()
	if ep.AuthURL == "" || ep.TokenURL == "" || doc.JWKS == "" {
		return federation.Endpoints{}, errors.New("the document does not name the authorization, token and jwks endpoints")
	}
	return federation.Endpoints{Authorization: ep.AuthURL, Token: ep.TokenURL, UserInfo: doc.UserInfo, JWKS: doc.JWKS}, nil
}

// provider returns the provider of an issuer, from discovery, cached.
func (h *Handler) provider(ctx context.Context, issuer string, fresh bool) (*oidc.Provider, error) {
	now := h.Now()
	h.mu.Lock()
	c, ok := h.providers[issuer]
	h.mu.Unlock()
	if ok && !fresh && now.Sub(c.fetched) < providerTTL {
		return c.p, nil
	}
	p, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	if h.providers == nil {
		h.providers = map[string]cachedProvider{}
	}
	h.providers[issuer] = cachedProvider{p: p, fetched: now}
	h.mu.Unlock()
	return p, nil
}

// forget drops a cached provider after a failure, so the next sign-in
// discovers it again.
func (h *Handler) forget(issuer string) {
	h.mu.Lock()
	delete(h.providers, issuer)
	h.mu.Unlock()
}

// SignInButtons lists the active providers for the sign-in page.
func (h *Handler) SignInButtons(ctx context.Context) ([]login.Button, error) {
	ps, err := h.IdPs.Store.IdPs(ctx, federation.Query{Limit: 50})
	if err != nil {
		return nil, err
	}
	var out []login.Button
	for _, p := range ps {
		if p.Status != federation.Active {
			continue
		}
		out = append(out, login.Button{Label: p.ButtonLabel(), Href: "/sso/idps/" + p.ID + "/start", Kind: strings.ToLower(string(p.Type))})
	}
	return out, nil
}

func (h *Handler) oauthConfig(p *federation.IdP, prov *oidc.Provider, secret string) *oauth2.Config {
	return &oauth2.Config{
		ClientID:     p.ClientID,
		ClientSecret: secret,
		Endpoint:     prov.Endpoint(),
		RedirectURL:  strings.TrimRight(h.BaseURL, "/") + CallbackPath,
		Scopes:       p.Scopes,
	}
}

// refuse logs a refused sign-in and shows the person why.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, p *federation.IdP, status int, reason, msg string, cause error) {
	ctx := h.ctx(r)
	attrs := []any{"reason", reason}
	if p != nil {
		attrs = append(attrs, "idp", p.ID)
	}
	if cause != nil {
		attrs = append(attrs, "err", cause)
	}
	web.Logger(r.Context(), h.Log).Warn("federated sign-in refused", attrs...)
	if err := h.IdPs.LogFailure(ctx, p, "", reason); err != nil {
		web.Logger(r.Context(), h.Log).Error("log federated sign-in failure", "err", err)
	}
	h.page(w, r, status, msg)
}

func (h *Handler) page(w http.ResponseWriter, r *http.Request, status int, msg string) {
	h.Login.Message(w, r, status, "Sign-in failed", msg, "Go back to the sign-in page and try again, or sign in with your username and password.")
}

func label(p *federation.IdP) string { return p.Name }

func (h *Handler) start(w http.ResponseWriter, r *http.Request) {
	ctx := h.ctx(r)
	// Each start stores a flow record: an address may start only so many
	// a minute (the password form's limit).
	limit := h.Login.IPAttempts
	if limit <= 0 {
		limit = 30
	}
	if n, err := h.Pending.Hit(ctx, "idp-start-ip:"+web.ClientIP(r), time.Minute, h.Now()); err == nil && n > limit {
		w.Header().Set("Retry-After", "60")
		h.page(w, r, http.StatusTooManyRequests, "Too many sign-in attempts from your network. Wait a minute and try again.")
		return
	}
	p, err := h.IdPs.Store.IdP(ctx, r.PathValue("id"))
	if err != nil || p.Status != federation.Active {
		if err != nil && !errs.Is(err, errs.NotFound) {
			web.Logger(r.Context(), h.Log).Error("load identity provider", "err", err)
		}
		h.page(w, r, http.StatusNotFound, "This sign-in option is not available.")
		return
	}
	issuer := p.IssuerURL(h.Issuers)
	prov, err := h.provider(ctx, issuer, false)
	if err != nil {
		h.refuse(w, r, p, http.StatusBadGateway, "PROVIDER_UNAVAILABLE", label(p)+" cannot be reached right now. Try again in a few minutes.", err)
		return
	}
	secret, err := h.IdPs.ClientSecret(p)
	if err != nil {
		h.refuse(w, r, p, http.StatusInternalServerError, federation.ReasonInternal, "Signing in with "+label(p)+" is not set up correctly. Contact your administrator.", err)
		return
	}
	state, nonce, browser := web.NewID(32), web.NewID(32), web.NewID(32)
	verifier := oauth2.GenerateVerifier()
	rec, _ := json.Marshal(flow{IdP: p.ID, Nonce: nonce, Verifier: verifier, Next: login.SafeNext(r.URL.Query().Get("next")), Browser: session.Hash(browser)})
	if err := h.Pending.PutPending(ctx, pendingKey(state), rec, h.Now().Add(flowTTL)); err != nil {
		web.Logger(r.Context(), h.Log).Error("store federated sign-in", "err", err)
		h.page(w, r, http.StatusInternalServerError, "Sign-in is unavailable right now. Try again in a moment.")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: browserCookie, Value: browser, Path: CallbackPath, MaxAge: int(flowTTL.Seconds()),
		HttpOnly: true, Secure: h.secure(), SameSite: http.SameSiteLaxMode})
	target := h.oauthConfig(p, prov, secret).AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce))
	http.Redirect(w, r, target, http.StatusFound)
}

func pendingKey(state string) string { return "idp-flow:" + session.Hash(state) }

func (h *Handler) callback(w http.ResponseWriter, r *http.Request) {
	ctx := h.ctx(r)
	q := r.URL.Query()
	state := q.Get("state")
	http.SetCookie(w, &http.Cookie{Name: browserCookie, Value: "", Path: CallbackPath, MaxAge: -1, HttpOnly: true, Secure: h.secure(), SameSite: http.SameSiteLaxMode})
	expired := "This sign-in has expired or was already used. Start again from the sign-in page."
	if state == "" || len(state) > 200 {
		h.refuse(w, r, nil, http.StatusBadRequest, "INVALID_STATE", expired, nil)
		return
	}
	body, err := h.Pending.Pending(ctx, pendingKey(state))
	if err != nil {
		h.refuse(w, r, nil, http.StatusBadRequest, "INVALID_STATE", expired, err)
		return
	}
	// The state is single use: the first callback to record it wins.
	fresh, err := h.Pending.Remember(ctx, "idp-state:"+session.Hash(state), h.Now().Add(flowTTL))
	if err != nil {
		web.Logger(r.Context(), h.Log).Error("replay cache", "err", err)
		h.page(w, r, http.StatusInternalServerError, "Sign-in is unavailable right now. Try again in a moment.")
		return
	}
	_ = h.Pending.DeletePending(ctx, pendingKey(state))
	if !fresh {
		h.refuse(w, r, nil, http.StatusBadRequest, "REPLAYED_STATE", expired, nil)
		return
	}
	var f flow
	if err := json.Unmarshal(body, &f); err != nil {
		h.refuse(w, r, nil, http.StatusBadRequest, "INVALID_STATE", expired, err)
		return
	}
	p, err := h.IdPs.Store.IdP(ctx, f.IdP)
	if err != nil {
		h.refuse(w, r, nil, http.StatusBadRequest, "INVALID_STATE", "This sign-in option is no longer available.", err)
		return
	}
	c, err := r.Cookie(browserCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(session.Hash(c.Value)), []byte(f.Browser)) != 1 {
		h.refuse(w, r, p, http.StatusBadRequest, "STATE_MISMATCH", "This sign-in was started in another browser or window. Start again from the sign-in page.", nil)
		return
	}
	if p.Status != federation.Active {
		h.refuse(w, r, p, http.StatusForbidden, federation.ReasonInactiveIdP, "Signing in with "+label(p)+" is turned off.", nil)
		return
	}
	if e := q.Get("error"); e != "" {
		h.refuse(w, r, p, http.StatusForbidden, "IDP_ERROR: "+truncate(e, 64), label(p)+" did not sign you in ("+truncate(e, 64)+").", nil)
		return
	}
	code := q.Get("code")
	if code == "" || len(code) > 4096 {
		h.refuse(w, r, p, http.StatusBadRequest, "MISSING_CODE", label(p)+" did not send a sign-in code. Start again from the sign-in page.", nil)
		return
	}
	issuer := p.IssuerURL(h.Issuers)
	unavailable := label(p) + " cannot be reached right now. Try again in a few minutes."
	prov, err := h.provider(ctx, issuer, false)
	if err != nil {
		h.refuse(w, r, p, http.StatusBadGateway, "PROVIDER_UNAVAILABLE", unavailable, err)
		return
	}
	secret, err := h.IdPs.ClientSecret(p)
	if err != nil {
		h.refuse(w, r, p, http.StatusInternalServerError, federation.ReasonInternal, "Signing in with "+label(p)+" is not set up correctly. Contact your administrator.", err)
		return
	}
	tok, err := h.oauthConfig(p, prov, secret).Exchange(ctx, code, oauth2.VerifierOption(f.Verifier))
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
			h.refuse(w, r, p, http.StatusForbidden, "TOKEN_EXCHANGE_FAILED: "+truncate(re.ErrorCode, 64), label(p)+" refused the sign-in code. Start again from the sign-in page.", err)
			return
		}
		h.forget(issuer)
		h.refuse(w, r, p, http.StatusBadGateway, "PROVIDER_UNAVAILABLE", unavailable, err)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		h.refuse(w, r, p, http.StatusForbidden, "NO_ID_TOKEN", label(p)+" did not send an ID token. Contact your administrator.", nil)
		return
	}
	now, skew := h.Now, p.MaxClockSkew
	idt, err := prov.VerifierContext(ctx, &oidc.Config{ClientID: p.ClientID, Now: func() time.Time { return now().Add(-skew) }}).Verify(ctx, raw)
	if err != nil {
		h.refuse(w, r, p, http.StatusForbidden, "INVALID_ID_TOKEN: "+tokenProblem(err), "The sign-in from "+label(p)+" could not be verified. Start again from the sign-in page.", err)
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(f.Nonce)) != 1 {
		h.refuse(w, r, p, http.StatusForbidden, "INVALID_ID_TOKEN: NONCE", "The sign-in from "+label(p)+" could not be verified. Start again from the sign-in page.", nil)
		return
	}
	claims, err := parseClaims(idt)
	if err != nil {
		h.refuse(w, r, p, http.StatusForbidden, "INVALID_ID_TOKEN: CLAIMS", "The sign-in from "+label(p)+" could not be verified. Start again from the sign-in page.", err)
		return
	}
	u, _, err := h.IdPs.SignIn(ctx, p, claims)
	if err != nil {
		var fail *federation.Failure
		if errors.As(err, &fail) {
			web.Logger(r.Context(), h.Log).Warn("federated sign-in refused", "reason", fail.Reason, "idp", p.ID)
			h.page(w, r, http.StatusForbidden, fail.Message)
			return
		}
		h.refuse(w, r, p, http.StatusInternalServerError, federation.ReasonInternal, "Sign-in is unavailable right now. Try again in a moment.", err)
		return
	}
	// The session starts, or the second step the person owes.
	h.Login.FinishSignIn(w, r, u.ID, []string{"fed"}, f.Next)
}

// parseClaims reads the claims federation needs. email_verified is a
// boolean, or the string "true" some providers send.
func parseClaims(idt *oidc.IDToken) (federation.Claims, error) {
	var raw map[string]any
	if err := idt.Claims(&raw); err != nil {
		return federation.Claims{}, err
	}
	c := federation.Claims{Subject: idt.Subject, Raw: raw}
	if c.Subject == "" {
		return c, errors.New("no sub claim")
	}
	c.Email, _ = raw["email"].(string)
	switch v := raw["email_verified"].(type) {
	case bool:
		c.EmailVerified = v
	case string:
		c.EmailVerified = strings.EqualFold(v, "true")
	}
	return c, nil
}

// tokenProblem names what was wrong with an ID token, for the log.
func tokenProblem(err error) string {
	var exp *oidc.TokenExpiredError
	if errors.As(err, &exp) {
		return "EXPIRED"
	}
	s := err.Error()
	switch {
	case strings.Contains(s, "audience"):
		return "AUDIENCE"
	case strings.Contains(s, "issuer"), strings.Contains(s, "different provider"):
		return "ISSUER"
	case strings.Contains(s, "signature"), strings.Contains(s, "key"), strings.Contains(s, "malformed"):
		return "SIGNATURE"
	case strings.Contains(s, "before"):
		return "NOT_YET_VALID"
	}
	return "INVALID"
}

func truncate(s string, n int) string {
	if len(s) > n {
		s = s[:n]
	}
	return url.QueryEscape(s)
}
