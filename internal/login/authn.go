package login

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/credential"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/mfa"
	"github.com/gatehouse/gatehouse/internal/session"
	"github.com/gatehouse/gatehouse/internal/trustedorigin"
	"github.com/gatehouse/gatehouse/internal/web"
)

// Okta's classic Authentication API (/api/v1/authn) signs people in from
// CLI tools and SDKs with the sign-in form's own steps: checkPassword
// (throttle, lockout, dummy hash, events), owed (the session policy and the
// second factor), mfa.Service.VerifyTOTP (replay and lockout) and, at the
// end, a session like the form's. Between steps the transaction lives in
// the store under the SHA-256 of its stateToken; a finished transaction
// yields a one-time sessionToken (also stored only as a hash) that
// /login/sessionCookieRedirect or an app's launch link exchanges for the
// session cookie. oktaapi renders all of it in Okta's shapes.

// Authentication API transaction states, as Okta names them.
const (
	AuthnSuccess         = "SUCCESS"
	AuthnMFARequired     = "MFA_REQUIRED"
	AuthnMFAChallenge    = "MFA_CHALLENGE"
	AuthnMFAEnroll       = "MFA_ENROLL"
	AuthnEnrollActivate  = "MFA_ENROLL_ACTIVATE"
	AuthnPasswordExpired = "PASSWORD_EXPIRED"
)

// AuthnTTL is the lifetime of a transaction's stateToken and of a
// sessionToken (Okta's default transaction lifetime is five minutes).
const AuthnTTL = 5 * time.Minute

// AuthnResult is where an Authentication API transaction stands.
type AuthnResult struct {
	Status string
	// StateToken continues the transaction ("" once it ended).
	StateToken string
	// SessionToken is the one-time token of a SUCCESS.
	SessionToken string
	ExpiresAt    time.Time
	RelayState   string
	// User is the person signing in.
	User *directory.User
	// Factors are the person's active factors (MFA_REQUIRED).
	Factors []*mfa.Factor
	// Factor is the factor being challenged (MFA_CHALLENGE) or set up
	// (MFA_ENROLL_ACTIVATE).
	Factor *mfa.Factor
	// Activation is the seed of the authenticator app being set up
	// (MFA_ENROLL_ACTIVATE).
	Activation *mfa.TOTPEnrollment
}

// Errors of the Authentication API, with Okta's codes.
var (
	// ErrAuthnFailed is every refused primary authentication: unknown
	// person, wrong password, person who cannot sign in, policy refusal.
	ErrAuthnFailed = &errs.Error{Kind: errs.Unauthorized, Code: "E0000004", Msg: "Authentication failed"}
	// ErrStateToken is an unknown, expired, used or cancelled stateToken.
	ErrStateToken = &errs.Error{Kind: errs.Unauthorized, Code: "E0000011", Msg: "Invalid token provided"}
	// ErrAuthnThrottled is the per-address limit of sign-in attempts.
	ErrAuthnThrottled = &errs.Error{Kind: errs.RateLimited, Code: "E0000047", Msg: "API call exceeded rate limit due to too many requests."}
	// ErrAuthnState is an operation the transaction's state does not allow.
	ErrAuthnState = &errs.Error{Kind: errs.Forbidden, Code: "E0000079", Msg: "This operation is not allowed in the current authentication state."}
)

// authnTxn is a transaction between its steps.
type authnTxn struct {
	pendingSignIn
	RelayState string `json:"relayState,omitempty"`
	// Challenged is the factor of an MFA_CHALLENGE.
	Challenged string `json:"challenged,omitempty"`
}

func authnKey(stateToken string) string     { return "authn:" + session.Hash(stateToken) }
func sessionTokenKey(token string) string   { return "sessiontoken:" + session.Hash(token) }
func authnDoneKey(stateToken string) string { return "authn-done:" + session.Hash(stateToken) }

// sessionGrant is what a sessionToken is exchanged for.
type sessionGrant struct {
	UserID   string        `json:"userId"`
	AMR      []string      `json:"amr"`
	AuthTime time.Time     `json:"authTime"`
	MFATime  time.Time     `json:"mfaTime"`
	Idle     time.Duration `json:"idle,omitempty"`
	Max      time.Duration `json:"max,omitempty"`
	Expires  time.Time     `json:"expires"`
	// Cleared is the body of the person's session.ClearedKey entry when
	// the token was issued ("" before any clearing): a clearing of their
	// sessions since then changes it, and the token is refused.
	Cleared string `json:"cleared,omitempty"`
}

// sessionsCleared reads the body of the person's session.ClearedKey entry
// ("" when their sessions were never cleared, or long ago).
func (s *Surface) sessionsCleared(ctx context.Context, userID string) (string, error) {
	b, err := s.Sessions.Store.Pending(ctx, session.ClearedKey(userID))
	if errs.Is(err, errs.NotFound) {
		return "", nil
	}
	return string(b), err
}

// clearedSince reports whether the person's sessions were cleared after
// the grant was issued.
func (s *Surface) clearedSince(ctx context.Context, g *sessionGrant) (bool, error) {
	now, err := s.sessionsCleared(ctx, g.UserID)
	return now != "" && now != g.Cleared, err
}

// AuthnPrimary is primary authentication: a username and a password.
func (s *Surface) AuthnPrimary(r *http.Request, username, password, relayState string) (*AuthnResult, error) {
	username = strings.TrimSpace(username)
	u, err := s.checkPassword(r, username, password)
	if err != nil {
		var f *directory.SignInFailure
		switch {
		case errors.Is(err, errThrottled):
			return nil, ErrAuthnThrottled
		case errors.As(err, &f):
			// A locked account too: Okta answers LOCKED_OUT only when
			// the password policy's showLockoutFailures is on, and it is
			// off by default; Gatehouse, like the sign-in form, does not
			// tell a caller which accounts exist and are locked.
			return nil, ErrAuthnFailed
		}
		return nil, err
	}
	p, refused, err := s.owed(r, u, []string{"pwd"}, "", false)
	if err != nil {
		return nil, err
	}
	if refused != "" {
		return nil, ErrAuthnFailed
	}
	return s.advanceAuthn(r, &authnTxn{pendingSignIn: *p, RelayState: relayState}, "", u)
}

// advanceAuthn ends the transaction with a sessionToken when nothing is
// owed any more, or stores it (under a new stateToken when stateToken is
// "") and answers the step it owes.
func (s *Surface) advanceAuthn(r *http.Request, t *authnTxn, stateToken string, u *directory.User) (*AuthnResult, error) {
	ctx := r.Context()
	now := s.now().UTC()
	if !t.owes() {
		if stateToken != "" {
			// The end of a transaction is atomic across requests and
			// nodes: one sessionToken per transaction.
			fresh, err := s.Sessions.Store.Remember(ctx, authnDoneKey(stateToken), now.Add(AuthnTTL+time.Minute))
			if err != nil {
				return nil, err
			}
			if !fresh {
				return nil, ErrStateToken
			}
			if err := s.Sessions.Store.DeletePending(ctx, authnKey(stateToken)); err != nil {
				return nil, err
			}
		}
		cleared, err := s.sessionsCleared(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		token := web.NewID(32)
		exp := now.Add(AuthnTTL)
		b, err := json.Marshal(sessionGrant{UserID: u.ID, AMR: t.AMR, AuthTime: t.AuthTime, MFATime: t.MFATime, Idle: t.Idle, Max: t.Max, Expires: exp, Cleared: cleared})
		if err != nil {
			return nil, err
		}
		if err := s.Sessions.Store.PutPending(ctx, sessionTokenKey(token), b, exp); err != nil {
			return nil, err
		}
		return &AuthnResult{Status: AuthnSuccess, SessionToken: token, ExpiresAt: exp, RelayState: t.RelayState, User: u}, nil
	}
	put := s.Sessions.Store.UpdatePending
	if stateToken == "" {
		stateToken = web.NewID(32)
		t.Expires = now.Add(AuthnTTL)
		put = s.Sessions.Store.PutPending
	}
	b, err := json.Marshal(t)
	if err != nil {
		return nil, err
	}
	// A later step only replaces the stored transaction: one that another
	// request ended meanwhile (SUCCESS, cancel, lockout) stays ended.
	if err := put(ctx, authnKey(stateToken), b, t.Expires); err != nil {
		if errs.Is(err, errs.NotFound) {
			return nil, ErrStateToken
		}
		return nil, err
	}
	return s.authnState(ctx, t, stateToken, u)
}

// authnState describes a stored transaction.
func (s *Surface) authnState(ctx context.Context, t *authnTxn, stateToken string, u *directory.User) (*AuthnResult, error) {
	res := &AuthnResult{StateToken: stateToken, ExpiresAt: t.Expires, RelayState: t.RelayState, User: u}
	switch {
	case t.NeedMFA && t.Enrolling != "":
		f, err := s.MFA.Get(ctx, u.ID, t.Enrolling)
		if err != nil {
			return nil, err
		}
		enr, err := s.MFA.PendingTOTP(ctx, u.ID, t.Enrolling)
		if err != nil {
			return nil, err
		}
		res.Status, res.Factor, res.Activation = AuthnEnrollActivate, f, &enr
	case t.NeedMFA:
		fs, err := s.activeFactors(ctx, u.ID)
		if err != nil {
			return nil, err
		}
		res.Status, res.Factors = AuthnMFARequired, fs
		if len(fs) == 0 {
			res.Status = AuthnMFAEnroll
		}
		for _, f := range fs {
			if f.ID == t.Challenged {
				res.Status, res.Factor = AuthnMFAChallenge, f
			}
		}
	case t.ChangePassword:
		res.Status = AuthnPasswordExpired
	default:
		return nil, ErrAuthnState
	}
	return res, nil
}

// activeFactors are the factors a person can verify with.
func (s *Surface) activeFactors(ctx context.Context, userID string) ([]*mfa.Factor, error) {
	if s.MFA == nil {
		return nil, nil
	}
	fs, _, err := s.MFA.List(ctx, userID)
	if err != nil {
		return nil, err
	}
	var out []*mfa.Factor
	for _, f := range fs {
		if f.Status == mfa.Active && (f.Type == mfa.TypeTOTP || f.Type == mfa.TypeWebAuthn && s.passkeysOn()) {
			out = append(out, f)
		}
	}
	return out, nil
}

// loadAuthn returns the live transaction of a stateToken and its person.
// A person who can no longer sign in ends it.
func (s *Surface) loadAuthn(ctx context.Context, stateToken string) (*authnTxn, *directory.User, error) {
	if stateToken == "" || len(stateToken) > 100 {
		return nil, nil, ErrStateToken
	}
	b, err := s.Sessions.Store.Pending(ctx, authnKey(stateToken))
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return nil, nil, ErrStateToken
		}
		return nil, nil, err
	}
	var t authnTxn
	if err := json.Unmarshal(b, &t); err != nil || !s.now().Before(t.Expires) {
		return nil, nil, ErrStateToken
	}
	u, err := s.Directory.Store.User(ctx, t.UserID)
	if err != nil || !directory.CanSignIn(u.Status) {
		_ = s.Sessions.Store.DeletePending(ctx, authnKey(stateToken))
		if err != nil && !errs.Is(err, errs.NotFound) {
			return nil, nil, err
		}
		return nil, nil, ErrStateToken
	}
	return &t, u, nil
}

// AuthnState answers the current state of a transaction.
func (s *Surface) AuthnState(r *http.Request, stateToken string) (*AuthnResult, error) {
	t, u, err := s.loadAuthn(r.Context(), stateToken)
	if err != nil {
		return nil, err
	}
	return s.authnState(r.Context(), t, stateToken, u)
}

// AuthnCancel ends a transaction and returns its relay state.
func (s *Surface) AuthnCancel(r *http.Request, stateToken string) (string, error) {
	t, _, err := s.loadAuthn(r.Context(), stateToken)
	if err != nil {
		return "", err
	}
	if err := s.Sessions.Store.DeletePending(r.Context(), authnKey(stateToken)); err != nil {
		return "", err
	}
	return t.RelayState, nil
}

// AuthnVerify verifies a factor of an MFA_REQUIRED or MFA_CHALLENGE
// transaction. Without a passCode it only challenges the factor (what
// clients send first); a wrong code counts towards lockout like at the
// sign-in form, and the one that locks the account ends the transaction.
func (s *Surface) AuthnVerify(r *http.Request, stateToken, factorID, passCode string) (*AuthnResult, error) {
	ctx := r.Context()
	t, u, err := s.loadAuthn(ctx, stateToken)
	if err != nil {
		return nil, err
	}
	if !t.NeedMFA {
		return nil, ErrAuthnState
	}
	fs, err := s.activeFactors(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	var f *mfa.Factor
	for _, x := range fs {
		if subtle.ConstantTimeCompare([]byte(x.ID), []byte(factorID)) == 1 {
			f = x
		}
	}
	if f == nil {
		return nil, &errs.Error{Kind: errs.NotFound, Code: "E0000007", Msg: "Not found: Resource not found: " + factorID + " (UserFactor)"}
	}
	if f.Type != mfa.TypeTOTP {
		return nil, errs.InvalidFields("Api validation failed: factorId",
			errs.Field("factorId", "factorId: a %s factor cannot be verified through the Authentication API; sign in with a browser at /login", f.Type))
	}
	if strings.TrimSpace(passCode) == "" {
		t.Challenged = f.ID
		return s.advanceAuthn(r, t, stateToken, u)
	}
	if n, err := s.Sessions.Store.Hit(ctx, "mfa-ip:"+web.ClientIP(r), time.Minute, s.now()); err == nil && n > s.IPAttempts {
		return nil, ErrAuthnThrottled
	}
	if _, err := s.MFA.VerifyTOTP(s.auditContext(r, u), u.ID, f.ID, passCode); err != nil {
		if mfa.LockedOut(err) {
			_ = s.Sessions.Store.DeletePending(ctx, authnKey(stateToken))
		}
		return nil, err
	}
	t.NeedMFA, t.Challenged = false, ""
	t.MFATime = s.now().UTC()
	t.AMR = appendAMR(t.AMR, "otp", "mfa")
	return s.advanceAuthn(r, t, stateToken, u)
}

// AuthnEnroll sets up an authenticator app in an MFA_ENROLL transaction
// (the session policy requires a factor the person does not have), as the
// sign-in form's "Set up a security method" does: the answer carries the
// seed once more for the app, and AuthnActivate takes its first code.
func (s *Surface) AuthnEnroll(r *http.Request, stateToken, factorType, provider string) (*AuthnResult, error) {
	ctx := r.Context()
	t, u, err := s.loadAuthn(ctx, stateToken)
	if err != nil {
		return nil, err
	}
	if !t.NeedMFA || s.MFA == nil {
		return nil, ErrAuthnState
	}
	if fs, err := s.activeFactors(ctx, u.ID); err != nil {
		return nil, err
	} else if len(fs) > 0 {
		// A factor exists: it is verified, not replaced.
		return nil, ErrAuthnState
	}
	if factorType != string(mfa.TypeTOTP) {
		return nil, errs.InvalidFields("Api validation failed: factorEnrollRequest",
			errs.Field("factorType", "factorType: only token:software:totp can be set up through the Authentication API; set up a passkey in a browser at /login"))
	}
	if provider == "" {
		provider = mfa.ProviderOkta
	}
	f, _, err := s.MFA.EnrollTOTP(s.auditContext(r, u), u.ID, provider)
	if err != nil {
		return nil, err
	}
	t.Enrolling = f.ID
	return s.advanceAuthn(r, t, stateToken, u)
}

// AuthnActivate activates the authenticator app of an MFA_ENROLL_ACTIVATE
// transaction with its first code; the new factor is the sign-in's second
// factor. Wrong codes count towards lockout, as at the sign-in form.
func (s *Surface) AuthnActivate(r *http.Request, stateToken, factorID, passCode string) (*AuthnResult, error) {
	ctx := r.Context()
	t, u, err := s.loadAuthn(ctx, stateToken)
	if err != nil {
		return nil, err
	}
	if !t.NeedMFA || t.Enrolling == "" || subtle.ConstantTimeCompare([]byte(t.Enrolling), []byte(factorID)) != 1 {
		return nil, ErrAuthnState
	}
	if mfa.NormalizeCode(passCode) == "" {
		return nil, errs.InvalidFields("Api validation failed: passCode", errs.Field("passCode", "passCode: the six-digit code the app shows is required"))
	}
	if n, err := s.Sessions.Store.Hit(ctx, "mfa-ip:"+web.ClientIP(r), time.Minute, s.now()); err == nil && n > s.IPAttempts {
		return nil, ErrAuthnThrottled
	}
	if _, err := s.MFA.ActivateTOTP(s.auditContext(r, u), u.ID, t.Enrolling, passCode); err != nil {
		if mfa.LockedOut(err) {
			_ = s.Sessions.Store.DeletePending(ctx, authnKey(stateToken))
		}
		return nil, err
	}
	t.NeedMFA, t.Enrolling = false, ""
	t.MFATime = s.now().UTC()
	t.AMR = appendAMR(t.AMR, "otp", "mfa")
	return s.advanceAuthn(r, t, stateToken, u)
}

// AuthnChangePassword replaces an expired password (PASSWORD_EXPIRED):
// the old password is checked again, the new one against the password
// policy and history.
func (s *Surface) AuthnChangePassword(r *http.Request, stateToken, oldPassword, newPassword string) (*AuthnResult, error) {
	ctx := r.Context()
	t, u, err := s.loadAuthn(ctx, stateToken)
	if err != nil {
		return nil, err
	}
	if t.NeedMFA || !t.ChangePassword {
		return nil, ErrAuthnState
	}
	if newPassword == "" {
		return nil, errs.InvalidFields("Api validation failed: newPassword", errs.Field("newPassword", "newPassword: required"))
	}
	if _, err := s.checkPassword(r, u.Login(), oldPassword); err != nil {
		var f *directory.SignInFailure
		switch {
		case errors.Is(err, errThrottled):
			return nil, ErrAuthnThrottled
		case errors.As(err, &f):
			_ = s.Sessions.Store.DeletePending(ctx, authnKey(stateToken))
			return nil, ErrAuthnFailed
		}
		return nil, err
	}
	if _, err := s.Directory.SetPassword(s.auditContext(r, u), u.ID, newPassword); err != nil {
		var pe *credential.PolicyError
		if errors.As(err, &pe) {
			return nil, errs.InvalidFields("Api validation failed: password", errs.Field("newPassword", "newPassword: %s", pe.Error()))
		}
		return nil, err
	}
	t.ChangePassword = false
	if u, err = s.Directory.Store.User(ctx, u.ID); err != nil {
		return nil, err
	}
	return s.advanceAuthn(r, t, stateToken, u)
}

// errOr is err, or fallback when err is nil.
func errOr(err, fallback error) error {
	if err != nil {
		return err
	}
	return fallback
}

// ErrSessionToken is an unknown, used or expired sessionToken.
var ErrSessionToken = errs.New(errs.Unauthorized, "This sign-in token is not valid any more: it was already used, it expired, or it is incomplete. Sign in again.")

// peekSessionToken reads a sessionToken's grant without using it.
func (s *Surface) peekSessionToken(ctx context.Context, token string) (*sessionGrant, error) {
	if token == "" || len(token) > 100 {
		return nil, ErrSessionToken
	}
	b, err := s.Sessions.Store.Pending(ctx, sessionTokenKey(token))
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return nil, ErrSessionToken
		}
		return nil, err
	}
	var g sessionGrant
	if err := json.Unmarshal(b, &g); err != nil || !s.now().Before(g.Expires) {
		return nil, ErrSessionToken
	}
	return &g, nil
}

// RedeemSessionToken uses a sessionToken up and starts its session in
// this browser, exactly as the sign-in form would (a new cookie value,
// any previous session of the browser ended, the session policy's
// timeouts, the transaction's AMR). The person must still be ACTIVE, and
// their sessions not cleared since the token was issued (DELETE
// /api/v1/users/{id}/sessions, revokeSessions): checked before the
// session starts and again after, so that a clearing in between ends it.
func (s *Surface) RedeemSessionToken(w http.ResponseWriter, r *http.Request, token string) (*session.Session, *directory.User, error) {
	ctx := r.Context()
	g, err := s.peekSessionToken(ctx, token)
	if err != nil {
		return nil, nil, err
	}
	fresh, err := s.Sessions.Store.Remember(ctx, "redeemed:"+session.Hash(token), g.Expires.Add(time.Minute))
	if err != nil {
		return nil, nil, err
	}
	if !fresh {
		return nil, nil, ErrSessionToken
	}
	if err := s.Sessions.Store.DeletePending(ctx, sessionTokenKey(token)); err != nil {
		return nil, nil, err
	}
	u, err := s.Directory.Store.User(ctx, g.UserID)
	if err != nil {
		if errs.Is(err, errs.NotFound) {
			return nil, nil, ErrSessionToken
		}
		return nil, nil, err
	}
	if u.Status != directory.Active {
		return nil, nil, ErrSessionToken
	}
	if cleared, err := s.clearedSince(ctx, g); err != nil || cleared {
		return nil, nil, errOr(err, ErrSessionToken)
	}
	sess, err := s.newSession(w, r, u.ID, session.StartOptions{AMR: g.AMR, AuthTime: g.AuthTime, MFATime: g.MFATime, Idle: g.Idle, Max: g.Max})
	if err != nil {
		return nil, nil, err
	}
	if cleared, err := s.clearedSince(ctx, g); err != nil || cleared {
		_ = s.Sessions.Store.DeleteSessionByID(ctx, sess.ID)
		return nil, nil, errOr(err, ErrSessionToken)
	}
	return sess, u, nil
}

// OtherSite reports whether the browser says another page started the
// request: another site (cross-site) or another host of the same site
// (same-site), which a sessionToken must not sign in without a click.
// Gatehouse's own pages (same-origin), a typed address or bookmark (none)
// and clients that send no Fetch Metadata go straight on.
func OtherSite(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "cross-site", "same-site":
		return true
	}
	return false
}

// SessionTokenLogin is the login of the person a sessionToken signs in
// ("" when the token is not valid), for the page that asks before a
// cross-site request uses one.
func (s *Surface) SessionTokenLogin(ctx context.Context, token string) string {
	g, err := s.peekSessionToken(ctx, token)
	if err != nil {
		return ""
	}
	u, err := s.Directory.Store.User(ctx, g.UserID)
	if err != nil {
		return ""
	}
	return u.Login()
}

// EndCurrent ends the session of the request's cookie and clears the
// cookie (DELETE /api/v1/sessions/me).
func (s *Surface) EndCurrent(w http.ResponseWriter, r *http.Request) error {
	c, err := r.Cookie(s.CookieName())
	if err != nil {
		return session.ErrNoSession
	}
	if err := s.Sessions.End(r.Context(), c.Value); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: s.CookieName(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteLaxMode})
	return nil
}

// SameOriginURL returns the local address (path and query) of a URL on
// Gatehouse's own origin: a path, or an absolute URL whose scheme and
// host are the base URL's. Anything else is refused (false).
func (s *Surface) SameOriginURL(raw string) (string, bool) {
	if raw == "" {
		return "/app/UserHome", true
	}
	if strings.ContainsAny(raw, "\\\r\n\t") || len(raw) > 4096 {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || u.Opaque != "" {
		return "", false
	}
	if u.Scheme != "" || u.Host != "" {
		base, err := url.Parse(s.BaseURL)
		if err != nil || !strings.EqualFold(u.Scheme, base.Scheme) || !strings.EqualFold(u.Host, base.Host) {
			return "", false
		}
	}
	local := u.EscapedPath()
	if local == "" {
		local = "/"
	}
	if u.RawQuery != "" {
		local += "?" + u.RawQuery
	}
	if !strings.HasPrefix(local, "/") || strings.HasPrefix(local, "//") {
		return "", false
	}
	return local, true
}

// RedirectTarget returns where a browser may be sent after signing in: a
// URL on Gatehouse's own origin (SameOriginURL), or an absolute URL on an
// ACTIVE trusted origin with the REDIRECT scope (Okta's Trusted Origins).
// Anything else is refused (false).
func (s *Surface) RedirectTarget(ctx context.Context, raw string) (string, bool, error) {
	if local, ok := s.SameOriginURL(raw); ok {
		return local, true, nil
	}
	if s.TrustedOrigins == nil || raw == "" || len(raw) > 4096 || strings.ContainsAny(raw, "\\\r\n\t ") {
		return "", false, nil
	}
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || u.Opaque != "" || u.Host == "" || !u.IsAbs() {
		return "", false, nil
	}
	ok, err := s.TrustedOrigins.Allows(ctx, u.Scheme+"://"+u.Host, trustedorigin.Redirect)
	if err != nil || !ok {
		return "", false, err
	}
	return u.String(), true, nil
}

func (s *Surface) mountSessionCookieRedirect(mux *http.ServeMux) {
	mux.HandleFunc("GET /login/sessionCookieRedirect", s.sessionCookieRedirect)
}

// sessionCookieRedirect exchanges a sessionToken for the session cookie
// and continues at redirectUrl, which must be on Gatehouse's own origin or
// on a trusted origin with the REDIRECT scope (anything else is refused,
// never followed). A request that another site
// started asks for a click first, naming the account, so that no site can
// sign a browser into an account of its choosing.
func (s *Surface) sessionCookieRedirect(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	dest, ok, err := s.RedirectTarget(r.Context(), q.Get("redirectUrl"))
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	if !ok {
		s.Message(w, r, http.StatusBadRequest, "Sign In", "The address to continue to after signing in is not on this Gatehouse or on a trusted origin, so it was not followed.", "")
		return
	}
	token := q.Get("token")
	if OtherSite(r) {
		login := s.SessionTokenLogin(r.Context(), token)
		if login == "" {
			s.Message(w, r, http.StatusUnauthorized, "Sign In", ErrSessionToken.Msg, "")
			return
		}
		s.Confirm(w, r, "Continue signing in", "Another site is signing this browser in to Gatehouse as "+login+". Continue only if that is you and you meant to sign in.",
			r.URL.RequestURI(), "Continue as "+login)
		return
	}
	if _, _, err := s.RedeemSessionToken(w, r, token); err != nil {
		if errors.Is(err, ErrSessionToken) {
			s.Message(w, r, http.StatusUnauthorized, "Sign In", ErrSessionToken.Msg, "")
			return
		}
		s.unavailable(w, r, err)
		return
	}
	http.Redirect(w, r, dest, http.StatusFound)
}
