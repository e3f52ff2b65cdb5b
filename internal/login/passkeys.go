package login

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/mfa"
	"github.com/gatehouse/gatehouse/internal/session"
	"github.com/gatehouse/gatehouse/internal/web"
)

// The passkey calls of ui/static/webauthn.js: each ceremony is two JSON
// POSTs (options, then the authenticator's answer), with the page's CSRF
// token in the X-CSRF-Token header. Answers are JSON: {"options": ...},
// {"redirect": "..."} or {"error": "...", "redirect"?: "..."}.

const maxPasskeyBody = 64 << 10

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func jsonError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// headerCSRF checks the CSRF header of a passkey call against token.
func (s *Surface) headerCSRF(r *http.Request, token string) bool {
	h := r.Header.Get("X-CSRF-Token")
	return s.sameOrigin(r) && h != "" && token != "" && subtle.ConstantTimeCompare([]byte(h), []byte(token)) == 1
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxPasskeyBody))
	if err != nil {
		jsonError(w, http.StatusRequestEntityTooLarge, "The request is too large.")
		return nil, false
	}
	return b, true
}

// pendingJSON loads the pending sign-in of a passkey call.
func (s *Surface) pendingJSON(w http.ResponseWriter, r *http.Request) (*pendingSignIn, string, bool) {
	p, handle, err := s.loadPending(r)
	if err != nil {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "This sign-in expired. Sign in again.", "redirect": "/login"})
		return nil, "", false
	}
	if !s.headerCSRF(r, p.CSRF) {
		jsonError(w, http.StatusForbidden, "The page expired. Reload it and try again.")
		return nil, "", false
	}
	return p, handle, true
}

func (s *Surface) passkeyFailed(w http.ResponseWriter, r *http.Request, err error) {
	var e *errs.Error
	if errors.As(err, &e) && e.Kind != errs.Internal {
		msg := "Your passkey could not be verified. Try again, or use another method."
		if e.Kind == errs.IllegalState {
			msg = "This took too long. Try again."
		}
		jsonError(w, http.StatusBadRequest, msg)
		return
	}
	web.Logger(r.Context(), s.Log).Error("passkey", "err", err)
	jsonError(w, http.StatusInternalServerError, "Passkeys are unavailable right now. Try again in a moment.")
}

// ceremonyKey names the passkey sign-in ceremony of a pending sign-in.
func ceremonyKey(handle string) string { return "signin:" + session.Hash(handle) }

func (s *Surface) verifyPasskeyOptions(w http.ResponseWriter, r *http.Request) {
	p, handle, ok := s.pendingJSON(w, r)
	if !ok {
		return
	}
	if !p.NeedMFA {
		writeJSON(w, http.StatusConflict, map[string]string{"error": "No second factor is needed now.", "redirect": s.stepURL(p)})
		return
	}
	// Each call stores a ceremony: counted per address like the
	// passwordless options.
	if s.hitLimit(w, r, "passkey-ip:") {
		return
	}
	opts, err := s.MFA.BeginPasskeyLogin(r.Context(), p.UserID, "", ceremonyKey(handle))
	if err != nil {
		s.passkeyFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"options": opts})
}

func (s *Surface) verifyPasskey(w http.ResponseWriter, r *http.Request) {
	p, handle, ok := s.pendingJSON(w, r)
	if !ok {
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	if !p.NeedMFA {
		writeJSON(w, http.StatusConflict, map[string]string{"error": "No second factor is needed now.", "redirect": s.stepURL(p)})
		return
	}
	if n, err := s.Sessions.Store.Hit(r.Context(), "mfa-ip:"+web.ClientIP(r), time.Minute, s.now()); err == nil && n > s.IPAttempts {
		w.Header().Set("Retry-After", "60")
		jsonError(w, http.StatusTooManyRequests, "Too many attempts from your network. Wait a minute and try again.")
		return
	}
	parsed, err := mfa.ParseAssertion(body)
	if err != nil {
		s.passkeyFailed(w, r, err)
		return
	}
	u, err := s.Directory.Store.User(r.Context(), p.UserID)
	if err != nil {
		s.passkeyFailed(w, r, err)
		return
	}
	f, err := s.MFA.FinishPasskeyLogin(s.auditContext(r, u), u.ID, ceremonyKey(handle), parsed)
	if err != nil {
		if mfa.LockedOut(err) {
			s.dropPending(w, r, handle)
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "Too many failed attempts. Your account is locked; contact your administrator.", "redirect": "/login"})
			return
		}
		if mfa.ReasonOf(err) != "" {
			jsonError(w, http.StatusUnauthorized, "Your passkey could not be verified. Try again, or use another method.")
			return
		}
		s.passkeyFailed(w, r, err)
		return
	}
	p.NeedMFA, p.Enrolling = false, ""
	p.MFATime = s.now().UTC()
	p.AMR = appendAMR(p.AMR, passkeyAMR(f)...)
	if r.URL.Query().Get("remember") == "1" && p.Remember > 0 && p.StepUp == "" {
		if err := s.rememberDevice(w, r, p.UserID, p.Remember); err != nil {
			web.Logger(r.Context(), s.Log).Error("remember device", "err", err)
		}
	}
	loc, err := s.complete(w, r, p, handle)
	if err != nil {
		s.passkeyFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"redirect": loc})
}

// passkeyAMR are the methods a passkey proves (RFC 8176): a hardware key
// and a test of presence, with user verification (PIN or biometrics)
// when the authenticator did it.
func passkeyAMR(f *mfa.Factor) []string {
	amr := []string{"hwk", "user"}
	if f != nil && f.Credential != nil && f.Credential.UserVerified {
		amr = append(amr, "pin")
	}
	return append(amr, "mfa")
}

type passkeyOptionsIn struct {
	Name string `json:"name"`
}

func decodeName(body []byte) (string, error) {
	var in passkeyOptionsIn
	if len(body) > 0 {
		if err := json.Unmarshal(body, &in); err != nil {
			return "", errs.InvalidFields("", errs.Field("name", "The request is not JSON."))
		}
	}
	return mfa.PasskeyName(in.Name)
}

func (s *Surface) enrollPasskeyOptions(w http.ResponseWriter, r *http.Request) {
	p, handle, ok := s.pendingJSON(w, r)
	if !ok {
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	if !p.NeedMFA {
		writeJSON(w, http.StatusConflict, map[string]string{"error": "No second factor is needed now.", "redirect": s.stepURL(p)})
		return
	}
	name, err := decodeName(body)
	if err != nil {
		jsonError(w, http.StatusBadRequest, "Give the passkey a name of up to 64 characters.")
		return
	}
	u, err := s.Directory.Store.User(r.Context(), p.UserID)
	if err != nil {
		s.passkeyFailed(w, r, err)
		return
	}
	f, creation, err := s.MFA.BeginPasskeyRegistration(s.auditContext(r, u), u.ID, name)
	if err != nil {
		s.passkeyFailed(w, r, err)
		return
	}
	p.Passkey = f.ID
	if err := s.savePending(r.Context(), handle, p); err != nil {
		s.passkeyFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"options": creation})
}

func (s *Surface) enrollPasskey(w http.ResponseWriter, r *http.Request) {
	p, handle, ok := s.pendingJSON(w, r)
	if !ok {
		return
	}
	body, ok := readBody(w, r)
	if !ok {
		return
	}
	if !p.NeedMFA || p.Passkey == "" {
		writeJSON(w, http.StatusConflict, map[string]string{"error": "Start again.", "redirect": s.stepURL(p)})
		return
	}
	parsed, err := mfa.ParseRegistration(body)
	if err != nil {
		s.passkeyFailed(w, r, err)
		return
	}
	u, err := s.Directory.Store.User(r.Context(), p.UserID)
	if err != nil {
		s.passkeyFailed(w, r, err)
		return
	}
	f, err := s.MFA.FinishPasskeyRegistration(s.auditContext(r, u), u.ID, p.Passkey, parsed)
	if err != nil {
		s.passkeyFailed(w, r, err)
		return
	}
	loc, err := s.enrolledAtSignIn(r, p, handle, passkeyAMR(f))
	if err != nil {
		s.passkeyFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"redirect": loc})
}

// Settings: add a passkey.

// settingsJSON checks a passkey call of the Settings page like
// changeAllowed checks its forms; a needed step-up is answered with its
// address.
func (s *Surface) settingsJSON(w http.ResponseWriter, r *http.Request) (*session.Session, []byte, bool) {
	sess, u, err := s.Current(r)
	if err != nil {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "Your session ended. Sign in again.", "redirect": "/login?next=%2Fenduser%2Fsettings"})
		return nil, nil, false
	}
	if !s.headerCSRF(r, sess.CSRF) {
		jsonError(w, http.StatusForbidden, "The page expired. Reload it and try again.")
		return nil, nil, false
	}
	body, ok := readBody(w, r)
	if !ok {
		return nil, nil, false
	}
	has, err := s.MFA.HasActive(r.Context(), u.ID)
	if err != nil {
		s.passkeyFailed(w, r, err)
		return nil, nil, false
	}
	if has && (sess.MFATime.IsZero() || s.now().Sub(sess.MFATime) > RecentMFA) {
		rec := &redirectCatcher{header: http.Header{}}
		s.StepUp(rec, r, sess, "/enduser/settings")
		for _, c := range rec.header.Values("Set-Cookie") {
			w.Header().Add("Set-Cookie", c)
		}
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "Verify it's you first.", "redirect": rec.header.Get("Location")})
		return nil, nil, false
	}
	return sess, body, true
}

// redirectCatcher keeps the headers of a redirect written for a page so a
// JSON answer can carry them.
type redirectCatcher struct {
	header http.Header
}

func (c *redirectCatcher) Header() http.Header         { return c.header }
func (c *redirectCatcher) Write(b []byte) (int, error) { return len(b), nil }
func (c *redirectCatcher) WriteHeader(int)             {}

func (s *Surface) settingsPasskeyOptions(w http.ResponseWriter, r *http.Request) {
	sess, body, ok := s.settingsJSON(w, r)
	if !ok {
		return
	}
	name, err := decodeName(body)
	if err != nil {
		jsonError(w, http.StatusBadRequest, "Give the passkey a name of up to 64 characters.")
		return
	}
	u, err := s.Directory.Store.User(r.Context(), sess.UserID)
	if err != nil {
		s.passkeyFailed(w, r, err)
		return
	}
	f, creation, err := s.MFA.BeginPasskeyRegistration(s.auditContext(r, u), u.ID, name)
	if err != nil {
		s.passkeyFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"options": creation, "factorId": f.ID})
}

func (s *Surface) settingsPasskey(w http.ResponseWriter, r *http.Request) {
	sess, body, ok := s.settingsJSON(w, r)
	if !ok {
		return
	}
	parsed, err := mfa.ParseRegistration(body)
	if err != nil {
		s.passkeyFailed(w, r, err)
		return
	}
	u, err := s.Directory.Store.User(r.Context(), sess.UserID)
	if err != nil {
		s.passkeyFailed(w, r, err)
		return
	}
	if _, err := s.MFA.FinishPasskeyRegistration(s.auditContext(r, u), u.ID, r.URL.Query().Get("factor"), parsed); err != nil {
		s.passkeyFailed(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"redirect": "/enduser/settings?saved=passkey"})
}
