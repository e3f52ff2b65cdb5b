// Package login serves the end-user pages: sign-in and sign-out, the
// dashboard of app tiles (/app/UserHome) and the person's settings. It
// owns the session cookie and CSRF checks that the other browser surfaces
// use through Surface.
package login

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/mfa"
	"github.com/gatehouse/gatehouse/internal/session"
	"github.com/gatehouse/gatehouse/internal/web"
)

// Tile is one app on the dashboard.
type Tile struct {
	Label string
	Href  string
}

// Initial is the letter shown as the tile's logo.
func (t Tile) Initial() string {
	r, _ := utf8.DecodeRuneInString(t.Label)
	return strings.ToUpper(string(r))
}

// Apps lists the apps a person may launch.
type Apps interface {
	Tiles(ctx context.Context, userID string) ([]Tile, error)
}

// Admins tells whether a user is an administrator.
type Admins interface {
	AdminRoles(ctx context.Context, userID string) ([]string, error)
}

// Surface is the end-user web surface.
type Surface struct {
	BaseURL      string
	Directory    *directory.Service
	Sessions     *session.Manager
	Pages        *web.Pages
	Apps         Apps
	Admins       Admins
	Log          *slog.Logger
	LockoutAfter int
	// IPAttempts is how many sign-in attempts one address may make a minute.
	IPAttempts int
	SignIns    *prometheus.CounterVec
	Static     http.Handler
	// OneTime redeems activation and password-reset links.
	OneTime *session.OneTime
	// Providers lists the "Sign in with ..." buttons of the enabled
	// external identity providers; nil shows none.
	Providers interface {
		SignInButtons(ctx context.Context) ([]Button, error)
	}
	// MFA holds people's second factors; nil signs everyone in with one
	// factor.
	MFA *mfa.Service
	// Policy is the global session policy; nil asks for a second factor
	// from everyone who has one.
	Policy SignOnPolicy
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// TrustedOrigins are the origins besides Gatehouse's own that a
	// browser may be sent to after signing in (the REDIRECT scope); nil
	// allows none.
	TrustedOrigins interface {
		Allows(ctx context.Context, origin, scope string) (bool, error)
	}
	// Recovery sends password-reset links by email; nil (or not Enabled)
	// offers no "Forgot password?".
	Recovery Recovery
}

// Button is a "Sign in with ..." link to an external identity provider.
type Button struct {
	Label string // "Sign in with Google"
	Href  string // starts the provider's flow
	Kind  string // google, linkedin, oidc: a style hook
}

const csrfCookie = "gh_csrf"

// secure reports whether Gatehouse is served over https.
func (s *Surface) secure() bool { return strings.HasPrefix(s.BaseURL, "https://") }

// CookieName is the session cookie's name: __Host- prefixed over https.
func (s *Surface) CookieName() string {
	if s.secure() {
		return "__Host-gh_sid"
	}
	return "gh_sid"
}

// Mount registers the routes.
func (s *Surface) Mount(mux *http.ServeMux) {
	mux.Handle("GET /static/", http.StripPrefix("/static/", s.Static))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/app/UserHome", http.StatusFound) })
	mux.HandleFunc("GET /login", s.signInPage)
	mux.HandleFunc("POST /login", s.signIn)
	mux.HandleFunc("POST /logout", s.signOut)
	mux.HandleFunc("GET /app/UserHome", s.home)
	s.mountPassword(mux)
	s.mountRecovery(mux)
	s.mountSettings(mux)
	s.mountSessionCookieRedirect(mux)
	if s.MFA != nil {
		s.mountSecondStep(mux)
	}
}

// Current returns the session and user of a request, or session.ErrNoSession.
func (s *Surface) Current(r *http.Request) (*session.Session, *directory.User, error) {
	c, err := r.Cookie(s.CookieName())
	if err != nil {
		return nil, nil, session.ErrNoSession
	}
	sess, err := s.Sessions.Check(r.Context(), c.Value)
	if err != nil {
		return nil, nil, err
	}
	u, err := s.Directory.Store.User(r.Context(), sess.UserID)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return nil, nil, session.ErrNoSession
		}
		return nil, nil, err
	}
	if !directory.CanSignIn(u.Status) {
		_ = s.Sessions.End(r.Context(), c.Value)
		return nil, nil, session.ErrNoSession
	}
	return sess, u, nil
}

// ErrCSRF is a failed cross-site request check.
var ErrCSRF = errs.New(errs.Forbidden, "The form has expired or did not come from Gatehouse. Reload the page and try again.")

// sameOrigin refuses requests a browser marks as cross-site, and requests
// whose Origin is not Gatehouse's.
func (s *Surface) sameOrigin(r *http.Request) bool {
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" {
		return false
	}
	if o := r.Header.Get("Origin"); o != "" && o != "null" {
		u, err := url.Parse(s.BaseURL)
		if err != nil || !strings.EqualFold(o, u.Scheme+"://"+u.Host) {
			return false
		}
	}
	return true
}

// CheckCSRF checks a state-changing form of a signed-in person.
func (s *Surface) CheckCSRF(r *http.Request, sess *session.Session) error {
	tok := r.PostFormValue("csrf")
	if !s.sameOrigin(r) || tok == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(sess.CSRF)) != 1 {
		return ErrCSRF
	}
	return nil
}

// preSessionToken returns the sign-in form's CSRF token, setting its cookie.
func (s *Surface) preSessionToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 32 && len(c.Value) < 100 {
		return c.Value
	}
	v := web.NewID(24)
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: v, Path: "/", HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteStrictMode})
	return v
}

// checkPreSessionCSRF checks a form posted before sign-in (double-submit
// cookie and origin).
func (s *Surface) checkPreSessionCSRF(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	return s.sameOrigin(r) && err == nil && subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) == 1
}

// SafeNext keeps only local paths as the place to go after sign-in.
func SafeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return "/app/UserHome"
	}
	return next
}

// RedirectToSignIn sends the browser to sign in, then back to next.
func (s *Surface) RedirectToSignIn(w http.ResponseWriter, r *http.Request, next string) {
	http.Redirect(w, r, "/login?next="+url.QueryEscape(SafeNext(next)), http.StatusFound)
}

type signInData struct {
	Next      string
	Username  string
	Providers []Button
	Recovery  bool // show "Forgot password?"
	Passkey   bool // show "Sign in with a passkey"
}

// providerButtons returns the provider buttons, each carrying next.
func (s *Surface) providerButtons(r *http.Request, next string) []Button {
	if s.Providers == nil {
		return nil
	}
	bs, err := s.Providers.SignInButtons(r.Context())
	if err != nil {
		web.Logger(r.Context(), s.Log).Error("sign-in providers", "err", err)
		return nil
	}
	for i := range bs {
		bs[i].Href += "?next=" + url.QueryEscape(next)
	}
	return bs
}

func (s *Surface) signInPage(w http.ResponseWriter, r *http.Request) {
	next := SafeNext(r.URL.Query().Get("next"))
	if _, _, err := s.Current(r); err == nil && r.URL.Query().Get("prompt") != "login" {
		http.Redirect(w, r, next, http.StatusFound)
		return
	}
	s.Pages.Render(w, http.StatusOK, "signin", web.Page{Title: "Sign In", CSRF: s.preSessionToken(w, r), Data: signInData{Next: next, Providers: s.providerButtons(r, next), Recovery: s.recoveryEnabled(), Passkey: s.passwordlessOn()}})
}

const genericFailure = "Unable to sign in. Check your username and password, or contact your administrator."

func (s *Surface) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	username := strings.TrimSpace(r.PostFormValue("username"))
	password := r.PostFormValue("password")
	next := SafeNext(r.PostFormValue("next"))
	tok := s.preSessionToken(w, r)
	fail := func(status int, msg string) {
		s.Pages.Render(w, status, "signin", web.Page{Title: "Sign In", CSRF: tok, Error: msg, Data: signInData{Next: next, Username: username, Providers: s.providerButtons(r, next), Recovery: s.recoveryEnabled(), Passkey: s.passwordlessOn()}})
	}
	if !s.checkPreSessionCSRF(r) {
		s.count("csrf")
		fail(http.StatusForbidden, "The sign-in form expired. Please try again.")
		return
	}
	if username == "" || password == "" {
		fail(http.StatusBadRequest, "Enter your username and password.")
		return
	}
	u, err := s.checkPassword(r, username, password)
	if err != nil {
		var f *directory.SignInFailure
		switch {
		case errors.Is(err, errThrottled):
			w.Header().Set("Retry-After", "60")
			fail(http.StatusTooManyRequests, "Too many sign-in attempts from your network. Wait a minute and try again.")
		case errors.As(err, &f):
			fail(http.StatusUnauthorized, genericFailure)
		default:
			web.Logger(r.Context(), s.Log).Error("sign-in", "err", err)
			fail(http.StatusInternalServerError, "Sign-in is unavailable right now. Try again in a moment.")
		}
		return
	}
	// A new session id on every sign-in (any previous one ends), after
	// the second step when the person owes one.
	s.afterFirstFactor(w, r, u, []string{"pwd"}, next)
}

// errThrottled is a first factor refused because its client address made
// too many attempts this minute.
var errThrottled = errs.New(errs.RateLimited, "too many sign-in attempts from this address")

// checkPassword is the first factor of the sign-in form and of Okta's
// Authentication API: the per-address throttle (shared by both), then
// directory.Authenticate, which checks the password (a dummy hash for an
// unknown login), counts failures towards lockout, refuses people who
// cannot sign in and records the attempt's events. It returns the person,
// errThrottled, or a *directory.SignInFailure saying why not (for the log
// only: callers answer every failure alike).
func (s *Surface) checkPassword(r *http.Request, username, password string) (*directory.User, error) {
	ip := web.ClientIP(r)
	if n, err := s.Sessions.Store.Hit(r.Context(), "signin-ip:"+ip, time.Minute, time.Now()); err == nil && n > s.IPAttempts {
		s.count("throttled")
		return nil, errThrottled
	}
	// The attempt's events name who was typed and where from, as Okta's
	// user.session.start events do.
	ctx := audit.WithRequest(r.Context(), audit.Request{
		Actor:         audit.Actor{ID: "unknown", Type: "User", AlternateID: username, DisplayName: username},
		Client:        audit.Client{IPAddress: ip, UserAgent: r.UserAgent()},
		TransactionID: web.RequestID(r.Context()),
	})
	u, err := s.Directory.Authenticate(ctx, username, password, s.LockoutAfter)
	if err != nil {
		var f *directory.SignInFailure
		if errors.As(err, &f) {
			s.count(strings.ToLower(f.Reason))
		}
		return nil, err
	}
	s.count("success")
	return u, nil
}

func (s *Surface) count(outcome string) {
	if s.SignIns != nil {
		s.SignIns.WithLabelValues(outcome).Inc()
	}
}

func (s *Surface) setSessionCookie(w http.ResponseWriter, value string) {
	http.SetCookie(w, &http.Cookie{Name: s.CookieName(), Value: value, Path: "/", HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteLaxMode})
}

func (s *Surface) signOut(w http.ResponseWriter, r *http.Request) {
	sess, _, err := s.Current(r)
	if err == nil {
		if err := s.CheckCSRF(r, sess); err != nil {
			s.Message(w, r, http.StatusForbidden, "Sign out", err.Error(), "")
			return
		}
		if c, err := r.Cookie(s.CookieName()); err == nil {
			_ = s.Sessions.End(r.Context(), c.Value)
		}
	}
	http.SetCookie(w, &http.Cookie{Name: s.CookieName(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// PageFor fills the common page fields for a signed-in person.
func (s *Surface) PageFor(r *http.Request, sess *session.Session, u *directory.User, title, nav string, data any) web.Page {
	p := web.Page{Title: title, Nav: nav, User: u, CSRF: sess.CSRF, Data: data}
	if s.Admins != nil {
		if roles, err := s.Admins.AdminRoles(r.Context(), u.ID); err == nil && len(roles) > 0 {
			p.IsAdmin = true
		}
	}
	return p
}

// Message renders a simple page with a message.
func (s *Surface) Message(w http.ResponseWriter, r *http.Request, status int, title, msg, detail string) {
	p := web.Page{Title: title, Data: map[string]string{"Message": msg, "Detail": detail}}
	if sess, u, err := s.Current(r); err == nil {
		p = s.PageFor(r, sess, u, title, "", p.Data)
	}
	s.Pages.Render(w, status, "message", p)
}

// Confirm renders a page that continues to href (a same-origin address)
// only when the person clicks its link, labelled label.
func (s *Surface) Confirm(w http.ResponseWriter, r *http.Request, title, msg, href, label string) {
	data := map[string]string{"Message": msg, "Back": href, "BackLabel": label}
	p := web.Page{Title: title, Data: data}
	if sess, u, err := s.Current(r); err == nil {
		p = s.PageFor(r, sess, u, title, "", data)
	}
	s.Pages.Render(w, http.StatusOK, "message", p)
}

func (s *Surface) home(w http.ResponseWriter, r *http.Request) {
	sess, u, err := s.Current(r)
	if err != nil {
		s.RedirectToSignIn(w, r, r.URL.RequestURI())
		return
	}
	var tiles []Tile
	if s.Apps != nil {
		tiles, err = s.Apps.Tiles(r.Context(), u.ID)
		if err != nil {
			web.Logger(r.Context(), s.Log).Error("dashboard tiles", "err", err)
			s.Message(w, r, http.StatusInternalServerError, "My Apps", "Your apps could not be listed right now. Try again in a moment.", "")
			return
		}
	}
	s.Pages.Render(w, http.StatusOK, "home", s.PageFor(r, sess, u, "My Apps", "home", map[string]any{"Tiles": tiles}))
}
