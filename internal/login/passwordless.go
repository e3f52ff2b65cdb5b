package login

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/mfa"
	"github.com/gatehouse/gatehouse/internal/session"
	"github.com/gatehouse/gatehouse/internal/web"
)

// "Sign in with a passkey" on the sign-in page: no username, no password.
// The browser offers the passkeys it holds for Gatehouse; the one chosen
// names its person by its user handle and, with user verification
// required, counts as two factors (possession and a PIN or biometric).
// The sign-in then goes on as a password and second factor would: the
// session policy, an expired password, the session's AMR and factor time.
//
// Both calls are JSON, like the other passkey calls, with the sign-in
// form's CSRF token (the double-submit cookie) in X-CSRF-Token. The
// ceremony is bound to that cookie: one per browser at a time.

const passkeySignInFailure = "Unable to sign in with this passkey. Use your username and password, or contact your administrator."

// passwordlessOn reports whether the sign-in page offers passkeys.
func (s *Surface) passwordlessOn() bool { return s.MFA != nil && s.MFA.PasskeysOn() }

// preSessionJSON checks the CSRF header of a call made before sign-in and
// returns the ceremony key of the browser.
func (s *Surface) preSessionJSON(w http.ResponseWriter, r *http.Request) (string, bool) {
	if !s.passwordlessOn() {
		jsonError(w, http.StatusNotFound, "Passkeys are not available here.")
		return "", false
	}
	c, err := r.Cookie(csrfCookie)
	h := r.Header.Get("X-CSRF-Token")
	if err != nil || !s.sameOrigin(r) || h == "" || len(c.Value) < 32 || subtle.ConstantTimeCompare([]byte(h), []byte(c.Value)) != 1 {
		s.count("csrf")
		jsonError(w, http.StatusForbidden, "The sign-in page expired. Reload it and try again.")
		return "", false
	}
	return "passwordless:" + session.Hash(c.Value), true
}

// hitLimit counts an attempt of the request's address under prefix and
// answers 429 when it is over the limit.
func (s *Surface) hitLimit(w http.ResponseWriter, r *http.Request, prefix string) bool {
	n, err := s.Sessions.Store.Hit(r.Context(), prefix+web.ClientIP(r), time.Minute, s.now())
	if err == nil && n > s.IPAttempts {
		s.count("throttled")
		w.Header().Set("Retry-After", "60")
		jsonError(w, http.StatusTooManyRequests, "Too many sign-in attempts from your network. Wait a minute and try again.")
		return true
	}
	return false
}

func (s *Surface) passwordlessOptions(w http.ResponseWriter, r *http.Request) {
	key, ok := s.preSessionJSON(w, r)
	if !ok {
		return
	}
	if s.hitLimit(w, r, "passkey-ip:") {
		return
	}
	opts, err := s.MFA.BeginPasskeySignIn(r.Context(), key)
	if err != nil {
		s.passkeyFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"options": opts})
}

func (s *Surface) passwordless(w http.ResponseWriter, r *http.Request) {
	key, ok := s.preSessionJSON(w, r)
	if !ok {
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	if s.hitLimit(w, r, "signin-ip:") {
		return
	}
	parsed, err := mfa.ParseAssertion(body)
	if err != nil {
		s.count("invalid_credentials")
		jsonError(w, http.StatusBadRequest, passkeySignInFailure)
		return
	}
	// Until the passkey names its person, the attempt is an unknown
	// person's, from the request's address.
	ctx := audit.WithRequest(r.Context(), audit.Request{
		Actor:         audit.Actor{ID: "unknown", Type: "User", AlternateID: "unknown", DisplayName: "unknown"},
		Client:        audit.Client{IPAddress: web.ClientIP(r), UserAgent: r.UserAgent()},
		TransactionID: web.RequestID(r.Context()),
	})
	f, u, err := s.MFA.FinishPasskeySignIn(ctx, key, parsed, func(u *directory.User) context.Context { return s.auditContext(r, u) })
	if err != nil {
		var e *errs.Error
		switch {
		case mfa.ReasonOf(err) != "" || errors.Is(err, mfa.ErrUnknownPasskey):
			// One answer for every refusal (unknown, not active, locked,
			// not verified), as for a wrong password.
			label := map[string]string{mfa.ReasonLocked: "passkey_locked_out", mfa.ReasonNotActive: "passkey_not_active",
				mfa.ReasonCloned: "passkey_cloned", "": "passkey_unknown"}[mfa.ReasonOf(err)]
			if label == "" {
				label = "passkey_invalid"
			}
			s.count(label)
			jsonError(w, http.StatusUnauthorized, passkeySignInFailure)
		case errors.As(err, &e) && e.Kind == errs.IllegalState:
			jsonError(w, http.StatusBadRequest, "This took too long. Try again.")
		default:
			s.passkeyFailed(w, r, err)
		}
		return
	}
	s.count("success")
	next := SafeNext(r.URL.Query().Get("next"))
	loc, refused, err := s.firstFactorDone(w, r, u, passkeyAMR(f), next, true)
	switch {
	case err != nil:
		s.passkeyFailed(w, r, err)
	case refused != "":
		jsonError(w, http.StatusForbidden, refused)
	default:
		writeJSON(w, http.StatusOK, map[string]string{"redirect": loc})
	}
}
