package login

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse/gatehouse/internal/audit"
	"github.com/gatehouse/gatehouse/internal/credential"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/mfa"
	"github.com/gatehouse/gatehouse/internal/session"
	"github.com/gatehouse/gatehouse/internal/web"
)

// The second step of signing in. After a password (or an external
// provider) a person who has an active factor, or whom the sign-on policy
// asks for one, is not signed in yet: a short-lived pending sign-in in the
// store (its handle in a cookie, its hash in the store) leads to "Verify
// it's you", to "Set up a security method" when the policy requires a
// factor they do not have, and to "Choose a new password" when their
// password expired. Only then does a session start, with the methods used
// in its AMR. The same pages step an existing session up when a sign-on
// rule of an app asks for a factor.

// SignOnPolicy decides what a person must do at sign-in (the global
// session policy). A nil SignOnPolicy asks for a factor from everyone who
// has one and keeps the configured session timeouts.
type SignOnPolicy interface {
	AtSignIn(ctx context.Context, u *directory.User, groups []*directory.Group) (SignInRule, error)
}

// SignInRule is the outcome of the session policy for one person.
type SignInRule struct {
	// Deny refuses the sign-in (Reason is shown).
	Deny   bool
	Reason string
	// RequireMFA asks for a second factor even from people without one:
	// they are led to set one up.
	RequireMFA bool
	// RememberDevice, when positive, offers "do not ask again on this
	// device" for that long.
	RememberDevice time.Duration
	// Idle and Max are the session's timeouts (zero: the configured ones).
	Idle, Max time.Duration
	// PolicyID and RuleID name what decided, for the log.
	PolicyID, RuleID string
}

// pendingSignIn is a sign-in between its first factor and its session.
type pendingSignIn struct {
	UserID   string    `json:"userId"`
	AMR      []string  `json:"amr"`
	Next     string    `json:"next"`
	CSRF     string    `json:"csrf"`
	AuthTime time.Time `json:"authTime"`
	Expires  time.Time `json:"expires"`
	// NeedMFA: a second factor is still to be given.
	NeedMFA bool `json:"needMfa,omitempty"`
	// MFATime is when the second factor was given.
	MFATime time.Time `json:"mfaTime"`
	// ChangePassword: the password expired and must be replaced.
	ChangePassword bool `json:"changePassword,omitempty"`
	// StepUp is the id of the session being stepped up ("" at sign-in).
	StepUp string `json:"stepUp,omitempty"`
	// Enrolling is the factor being set up on the enrolment page.
	Enrolling string `json:"enrolling,omitempty"`
	// CodesDue: a first factor was just set up and its recovery codes
	// are to be shown; Codes: they were shown, continuing finishes.
	CodesDue bool `json:"codesDue,omitempty"`
	Codes    bool `json:"codes,omitempty"`
	// Passkey is the passkey being registered on the enrolment page.
	Passkey  string        `json:"passkey,omitempty"`
	Remember time.Duration `json:"remember,omitempty"`
	Idle     time.Duration `json:"idle,omitempty"`
	Max      time.Duration `json:"max,omitempty"`
}

// PendingTTL bounds the time between the first and the last step of a
// sign-in.
const PendingTTL = 10 * time.Minute

const (
	pendingCookie = "gh_signin"
	deviceCookie  = "gh_device"
)

func (s *Surface) pendingCookieName() string {
	if s.secure() {
		return "__Host-" + pendingCookie
	}
	return pendingCookie
}

func (s *Surface) deviceCookieName() string {
	if s.secure() {
		return "__Host-" + deviceCookie
	}
	return deviceCookie
}

func pendingKey(handle string) string { return "signin:" + session.Hash(handle) }
func deviceKey(token string) string   { return "device:" + session.Hash(token) }

func (s *Surface) mountSecondStep(mux *http.ServeMux) {
	mux.HandleFunc("GET /login/verify", s.verifyPage)
	mux.HandleFunc("POST /login/verify", s.verifyCode)
	mux.HandleFunc("GET /login/enroll", s.enrollPage)
	mux.HandleFunc("POST /login/enroll/totp", s.enrollTOTPStart)
	mux.HandleFunc("GET /login/enroll/totp/{id}", s.enrollTOTPPage)
	mux.HandleFunc("GET /login/enroll/totp/{id}/qr.png", s.enrollTOTPQR)
	mux.HandleFunc("POST /login/enroll/totp/{id}", s.enrollTOTPActivate)
	mux.HandleFunc("GET /login/enroll/codes", s.enrollCodes)
	mux.HandleFunc("POST /login/enroll/continue", s.enrollContinue)
	mux.HandleFunc("POST /login/verify/passkey/options", s.verifyPasskeyOptions)
	mux.HandleFunc("POST /login/verify/passkey", s.verifyPasskey)
	mux.HandleFunc("POST /login/enroll/passkey/options", s.enrollPasskeyOptions)
	mux.HandleFunc("POST /login/enroll/passkey", s.enrollPasskey)
	mux.HandleFunc("POST /login/passkey/options", s.passwordlessOptions)
	mux.HandleFunc("POST /login/passkey", s.passwordless)
	mux.HandleFunc("GET /login/password", s.expiredPasswordPage)
	mux.HandleFunc("POST /login/password", s.expiredPassword)
}

func (s *Surface) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// FinishSignIn continues a sign-in whose first factor was checked
// elsewhere (an external identity provider): it starts the session, or the
// second step the person owes first, and redirects.
func (s *Surface) FinishSignIn(w http.ResponseWriter, r *http.Request, userID string, amr []string, next string) {
	u, err := s.Directory.Store.User(r.Context(), userID)
	if err != nil {
		web.Logger(r.Context(), s.Log).Error("sign-in", "err", err)
		s.Message(w, r, http.StatusInternalServerError, "Sign In", "Sign-in is unavailable right now. Try again in a moment.", "")
		return
	}
	s.afterFirstFactor(w, r, u, amr, SafeNext(next))
}

// afterFirstFactor decides between a session and a second step.
func (s *Surface) afterFirstFactor(w http.ResponseWriter, r *http.Request, u *directory.User, amr []string, next string) {
	loc, refused, err := s.firstFactorDone(w, r, u, amr, next, false)
	switch {
	case err != nil:
		web.Logger(r.Context(), s.Log).Error("sign-in", "err", err)
		s.Message(w, r, http.StatusInternalServerError, "Sign In", "Sign-in is unavailable right now. Try again in a moment.", "")
	case refused != "":
		s.Message(w, r, http.StatusForbidden, "Sign-in refused", refused, "")
	default:
		http.Redirect(w, r, loc, http.StatusSeeOther)
	}
}

// firstFactorDone applies the session policy after a first factor: it
// starts the session, or stores the pending sign-in of the steps the
// person still owes, sets the cookies and returns where the browser goes
// next; or it returns why the policy refuses the sign-in. multiFactor
// says the first factor was already two (a passkey that verified the
// person): no second factor is asked for, and the session records the
// factor's time as a second factor's.
func (s *Surface) firstFactorDone(w http.ResponseWriter, r *http.Request, u *directory.User, amr []string, next string, multiFactor bool) (loc, refused string, err error) {
	p, refused, err := s.owed(r, u, amr, next, multiFactor)
	if err != nil || refused != "" {
		return "", refused, err
	}
	if !p.owes() {
		if _, err := s.newSession(w, r, u.ID, p.startOptions()); err != nil {
			return "", "", err
		}
		return next, "", nil
	}
	handle := web.NewID(32)
	if err := s.savePending(r.Context(), handle, p); err != nil {
		return "", "", err
	}
	http.SetCookie(w, &http.Cookie{Name: s.pendingCookieName(), Value: handle, Path: "/", HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteLaxMode})
	return s.stepURL(p), "", nil
}

// owed applies the session policy after a first factor and returns the
// sign-in with what the person still owes (a second factor, a new
// password; nothing when p.owes() is false), or why the policy refuses
// the sign-in. The sign-in form and the Authentication API both decide
// here.
func (s *Surface) owed(r *http.Request, u *directory.User, amr []string, next string, multiFactor bool) (p *pendingSignIn, refused string, err error) {
	ctx := r.Context()
	rule := SignInRule{}
	if s.Policy != nil {
		groups, err := s.Directory.Store.UserGroups(ctx, u.ID)
		if err != nil {
			return nil, "", err
		}
		if rule, err = s.Policy.AtSignIn(s.auditContext(r, u), u, groups); err != nil {
			return nil, "", err
		}
	}
	if rule.Deny {
		return nil, rule.Reason, nil
	}
	hasFactor := false
	if s.MFA != nil && !multiFactor {
		if hasFactor, err = s.MFA.HasActive(ctx, u.ID); err != nil {
			return nil, "", err
		}
	}
	needMFA := !multiFactor && (hasFactor || rule.RequireMFA)
	if needMFA && rule.RememberDevice > 0 && s.rememberedDevice(r, u.ID) {
		needMFA = false
	}
	now := s.now().UTC()
	var mfaTime time.Time
	if multiFactor {
		mfaTime = now
	}
	expired := u.Status == directory.PasswordExpired || u.Status == directory.Recovery
	return &pendingSignIn{UserID: u.ID, AMR: amr, Next: next, CSRF: web.NewID(24), AuthTime: now, Expires: now.Add(PendingTTL),
		NeedMFA: needMFA, MFATime: mfaTime, ChangePassword: expired, Remember: rule.RememberDevice, Idle: rule.Idle, Max: rule.Max}, "", nil
}

// owes reports whether the sign-in has a step left before its session.
func (p *pendingSignIn) owes() bool { return p.NeedMFA || p.ChangePassword || p.Codes || p.CodesDue }

// startOptions are the options of the session a finished sign-in starts.
func (p *pendingSignIn) startOptions() session.StartOptions {
	return session.StartOptions{AMR: p.AMR, AuthTime: p.AuthTime, MFATime: p.MFATime, Idle: p.Idle, Max: p.Max}
}

// StepUp asks the signed-in person of sess for a second factor (a sign-on
// rule of an app wants one), then continues at next with the session
// replaced by one that records the factor.
func (s *Surface) StepUp(w http.ResponseWriter, r *http.Request, sess *session.Session, next string) {
	ctx := r.Context()
	now := s.now().UTC()
	p := &pendingSignIn{UserID: sess.UserID, Next: SafeNext(next), CSRF: web.NewID(24), AuthTime: sess.AuthTime, Expires: now.Add(PendingTTL),
		NeedMFA: true, StepUp: sess.ID}
	handle := web.NewID(32)
	if err := s.savePending(ctx, handle, p); err != nil {
		web.Logger(ctx, s.Log).Error("step-up", "err", err)
		s.Message(w, r, http.StatusInternalServerError, "Sign In", "Sign-in is unavailable right now. Try again in a moment.", "")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: s.pendingCookieName(), Value: handle, Path: "/", HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, s.stepURL(p), http.StatusSeeOther)
}

// stepURL is the page of the next step a pending sign-in owes.
func (s *Surface) stepURL(p *pendingSignIn) string {
	switch {
	case p.NeedMFA && p.Enrolling != "":
		return "/login/enroll/totp/" + url.PathEscape(p.Enrolling)
	case p.NeedMFA:
		return "/login/verify"
	case p.CodesDue || p.Codes:
		return "/login/enroll/codes"
	case p.ChangePassword:
		return "/login/password"
	}
	return "/login/verify"
}

func (s *Surface) savePending(ctx context.Context, handle string, p *pendingSignIn) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return s.Sessions.Store.PutPending(ctx, pendingKey(handle), b, p.Expires)
}

// loadPending returns the pending sign-in of a request and its handle.
func (s *Surface) loadPending(r *http.Request) (*pendingSignIn, string, error) {
	c, err := r.Cookie(s.pendingCookieName())
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return nil, "", session.ErrNoSession
	}
	b, err := s.Sessions.Store.Pending(r.Context(), pendingKey(c.Value))
	if err != nil {
		return nil, "", session.ErrNoSession
	}
	var p pendingSignIn
	if err := json.Unmarshal(b, &p); err != nil || !s.now().Before(p.Expires) {
		return nil, "", session.ErrNoSession
	}
	return &p, c.Value, nil
}

func (s *Surface) dropPending(w http.ResponseWriter, r *http.Request, handle string) {
	_ = s.Sessions.Store.DeletePending(r.Context(), pendingKey(handle))
	http.SetCookie(w, &http.Cookie{Name: s.pendingCookieName(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteLaxMode})
}

// pendingFor loads the pending sign-in of a page request, sending the
// browser back to the sign-in page when there is none.
func (s *Surface) pendingFor(w http.ResponseWriter, r *http.Request) (*pendingSignIn, string, *directory.User, bool) {
	p, handle, err := s.loadPending(r)
	if err != nil {
		http.Redirect(w, r, "/login", http.StatusFound)
		return nil, "", nil, false
	}
	u, err := s.Directory.Store.User(r.Context(), p.UserID)
	if err != nil || !directory.CanSignIn(u.Status) {
		s.dropPending(w, r, handle)
		s.Message(w, r, http.StatusForbidden, "Sign In", "This sign-in cannot continue. Sign in again.", "")
		return nil, "", nil, false
	}
	return p, handle, u, true
}

// checkPendingCSRF checks a form posted during the second step.
func (s *Surface) checkPendingCSRF(r *http.Request, p *pendingSignIn) bool {
	tok := r.PostFormValue("csrf")
	return s.sameOrigin(r) && tok != "" && subtle.ConstantTimeCompare([]byte(tok), []byte(p.CSRF)) == 1
}

// throttled counts a second-step attempt from the request's address and
// reports whether it is over the limit (answering 429 itself).
func (s *Surface) throttled(w http.ResponseWriter, r *http.Request, render func(status int, field, msg string)) bool {
	n, err := s.Sessions.Store.Hit(r.Context(), "mfa-ip:"+web.ClientIP(r), time.Minute, s.now())
	if err == nil && n > s.IPAttempts {
		w.Header().Set("Retry-After", "60")
		render(http.StatusTooManyRequests, "", "Too many attempts from your network. Wait a minute and try again.")
		return true
	}
	return false
}

type verifyData struct {
	Name     string
	TOTP     bool
	Passkey  bool
	Recovery bool
	Remember int // days, 0: not offered
	StepUp   bool
}

func (s *Surface) verifyOptions(ctx context.Context, p *pendingSignIn, u *directory.User) (verifyData, error) {
	d := verifyData{Name: u.DisplayName(), StepUp: p.StepUp != ""}
	if p.Remember > 0 && p.StepUp == "" {
		d.Remember = int(p.Remember / (24 * time.Hour))
		if d.Remember < 1 {
			d.Remember = 1
		}
	}
	fs, _, err := s.MFA.List(ctx, u.ID)
	if err != nil {
		return d, err
	}
	for _, f := range fs {
		if f.Status != mfa.Active {
			continue
		}
		switch f.Type {
		case mfa.TypeTOTP:
			d.TOTP = true
		case mfa.TypeWebAuthn:
			d.Passkey = s.passkeysOn()
		}
	}
	n, err := s.MFA.RecoveryCodesLeft(ctx, u.ID)
	d.Recovery = n > 0
	return d, err
}

func (s *Surface) verifyPage(w http.ResponseWriter, r *http.Request) {
	p, _, u, ok := s.pendingFor(w, r)
	if !ok {
		return
	}
	if !p.NeedMFA || p.Enrolling != "" {
		http.Redirect(w, r, s.stepURL(p), http.StatusFound)
		return
	}
	d, err := s.verifyOptions(r.Context(), p, u)
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	if !d.TOTP && !d.Passkey && !d.Recovery {
		http.Redirect(w, r, "/login/enroll", http.StatusFound)
		return
	}
	s.Pages.Render(w, http.StatusOK, "signin_verify", web.Page{Title: "Verify it's you", CSRF: p.CSRF, Data: d})
}

func (s *Surface) unavailable(w http.ResponseWriter, r *http.Request, err error) {
	web.Logger(r.Context(), s.Log).Error("sign-in second step", "err", err)
	s.Message(w, r, http.StatusInternalServerError, "Sign In", "Sign-in is unavailable right now. Try again in a moment.", "")
}

func (s *Surface) verifyCode(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	p, handle, u, ok := s.pendingFor(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	method := r.PostFormValue("method")
	render := func(status int, field, msg string) {
		d, err := s.verifyOptions(ctx, p, u)
		if err != nil {
			s.unavailable(w, r, err)
			return
		}
		pg := web.Page{Title: "Verify it's you", CSRF: p.CSRF, Data: d}
		if field != "" {
			pg.FieldErrors = map[string]string{field: msg}
		} else {
			pg.Error = msg
		}
		s.Pages.Render(w, status, "signin_verify", pg)
	}
	if !s.checkPendingCSRF(r, p) {
		render(http.StatusForbidden, "", "The form expired. Please try again.")
		return
	}
	if !p.NeedMFA {
		http.Redirect(w, r, s.stepURL(p), http.StatusSeeOther)
		return
	}
	field := "code"
	if method == "recovery" {
		field = "recoveryCode"
	}
	code := r.PostFormValue(field)
	if mfa.NormalizeCode(code) == "" {
		render(http.StatusBadRequest, field, "Enter the code.")
		return
	}
	if s.throttled(w, r, render) {
		return
	}
	ctx = s.auditContext(r, u)
	var err error
	amr := []string{"otp"}
	switch method {
	case "totp":
		_, err = s.MFA.VerifyTOTP(ctx, u.ID, "", code)
	case "recovery":
		err = s.MFA.RedeemRecoveryCode(ctx, u.ID, code)
	default:
		render(http.StatusBadRequest, "", "Choose how to verify.")
		return
	}
	if err != nil {
		reason := mfa.ReasonOf(err)
		if mfa.LockedOut(err) {
			// This failure may have been the one that locked the account.
			reason = mfa.ReasonLocked
		}
		switch reason {
		case mfa.ReasonLocked:
			s.dropPending(w, r, handle)
			s.Message(w, r, http.StatusForbidden, "Account locked", "Too many failed attempts. Your account is locked; contact your administrator.", "")
		case mfa.ReasonInvalid, mfa.ReasonReplayed:
			msg := "That code is not right. Check your authenticator app and try again."
			if method == "recovery" {
				msg = "That recovery code is not valid or was used already."
			}
			render(http.StatusUnauthorized, field, msg)
		default:
			if errs.Is(err, errs.NotFound) {
				render(http.StatusBadRequest, field, "You have no authenticator app set up. Use another method.")
				return
			}
			s.unavailable(w, r, err)
		}
		return
	}
	s.secondFactorDone(w, r, p, handle, amr, r.PostFormValue("remember") == "1")
}

// auditContext attributes events of a sign-in step to its person.
func (s *Surface) auditContext(r *http.Request, u *directory.User) context.Context {
	return audit.WithRequest(r.Context(), audit.Request{
		Actor:         audit.Actor{ID: u.ID, Type: "User", AlternateID: u.Login(), DisplayName: u.DisplayName()},
		Client:        audit.Client{IPAddress: web.ClientIP(r), UserAgent: r.UserAgent()},
		TransactionID: web.RequestID(r.Context()),
	})
}

// secondFactorDone records the factor and moves to the next step.
func (s *Surface) secondFactorDone(w http.ResponseWriter, r *http.Request, p *pendingSignIn, handle string, amr []string, remember bool) {
	p.NeedMFA, p.Enrolling = false, ""
	p.MFATime = s.now().UTC()
	p.AMR = appendAMR(p.AMR, append(amr, "mfa")...)
	if remember && p.Remember > 0 && p.StepUp == "" {
		if err := s.rememberDevice(w, r, p.UserID, p.Remember); err != nil {
			web.Logger(r.Context(), s.Log).Error("remember device", "err", err)
		}
	}
	s.advance(w, r, p, handle)
}

// advance finishes the sign-in, or stores it and sends the browser to the
// step it still owes.
func (s *Surface) advance(w http.ResponseWriter, r *http.Request, p *pendingSignIn, handle string) {
	loc, err := s.complete(w, r, p, handle)
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	http.Redirect(w, r, loc, http.StatusSeeOther)
}

// complete is advance without the redirect: it sets the cookies and
// returns where the browser goes next (for the passkey calls, which answer
// JSON).
func (s *Surface) complete(w http.ResponseWriter, r *http.Request, p *pendingSignIn, handle string) (string, error) {
	if p.owes() {
		if err := s.savePending(r.Context(), handle, p); err != nil {
			return "", err
		}
		return s.stepURL(p), nil
	}
	s.dropPending(w, r, handle)
	o := p.startOptions()
	if p.StepUp != "" {
		// The stepped-up session is replaced by a new one (a new cookie
		// value, as after any change of privilege) that records the factor
		// and keeps the original sign-in time and absolute end.
		sess, _, err := s.Current(r)
		if err != nil || sess.ID != p.StepUp || sess.UserID != p.UserID || !s.now().Before(sess.Expires) {
			return "/login?next=" + url.QueryEscape(SafeNext(p.Next)), nil
		}
		o = session.StartOptions{AMR: appendAMR(sess.AMR, p.AMR...), AuthTime: sess.AuthTime, MFATime: p.MFATime,
			Idle: sess.IdleTimeout, Max: sess.Expires.Sub(s.now()), Expires: sess.Expires}
	}
	if _, err := s.newSession(w, r, p.UserID, o); err != nil {
		return "", err
	}
	return p.Next, nil
}

// startSession starts a session and redirects to next.
func (s *Surface) startSession(w http.ResponseWriter, r *http.Request, userID string, o session.StartOptions, next string) {
	if _, err := s.newSession(w, r, userID, o); err != nil {
		s.unavailable(w, r, err)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// newSession ends any previous session of the browser and starts a new one.
func (s *Surface) newSession(w http.ResponseWriter, r *http.Request, userID string, o session.StartOptions) (*session.Session, error) {
	if old, err := r.Cookie(s.CookieName()); err == nil {
		_ = s.Sessions.End(r.Context(), old.Value)
	}
	value, sess, err := s.Sessions.StartWith(r.Context(), userID, web.ClientIP(r), r.UserAgent(), o)
	if err != nil {
		return nil, err
	}
	s.setSessionCookie(w, value)
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteStrictMode})
	return sess, nil
}

func appendAMR(amr []string, more ...string) []string {
	out := append([]string{}, amr...)
	for _, m := range more {
		dup := false
		for _, x := range out {
			dup = dup || x == m
		}
		if !dup {
			out = append(out, m)
		}
	}
	return out
}

type deviceRecord struct {
	UserID  string    `json:"userId"`
	Expires time.Time `json:"expires"`
	// Factors fingerprints the person's active factors when the device
	// was remembered: a reset, removal or new factor forgets every
	// remembered device (a compromised factor must not live on in them).
	Factors string `json:"factors"`
}

// factorFingerprint is the SHA-256 of the person's active factor ids.
func (s *Surface) factorFingerprint(ctx context.Context, userID string) (string, error) {
	if s.MFA == nil {
		return "", nil
	}
	fs, _, err := s.MFA.List(ctx, userID)
	if err != nil {
		return "", err
	}
	var ids []string
	for _, f := range fs {
		if f.Status == mfa.Active {
			ids = append(ids, f.ID)
		}
	}
	slices.Sort(ids)
	sum := sha256.Sum256([]byte(strings.Join(ids, ",")))
	return hex.EncodeToString(sum[:]), nil
}

// rememberDevice sets the cookie that spares this browser the second step
// for ttl; the store keeps only its hash.
func (s *Surface) rememberDevice(w http.ResponseWriter, r *http.Request, userID string, ttl time.Duration) error {
	token := web.NewID(32)
	exp := s.now().UTC().Add(ttl)
	fp, err := s.factorFingerprint(r.Context(), userID)
	if err != nil {
		return err
	}
	b, err := json.Marshal(deviceRecord{UserID: userID, Expires: exp, Factors: fp})
	if err != nil {
		return err
	}
	if err := s.Sessions.Store.PutPending(r.Context(), deviceKey(token), b, exp); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: s.deviceCookieName(), Value: token, Path: "/", Expires: exp, MaxAge: int(ttl / time.Second),
		HttpOnly: true, Secure: s.secure(), SameSite: http.SameSiteLaxMode})
	return nil
}

func (s *Surface) rememberedDevice(r *http.Request, userID string) bool {
	c, err := r.Cookie(s.deviceCookieName())
	if err != nil || c.Value == "" || len(c.Value) > 100 {
		return false
	}
	b, err := s.Sessions.Store.Pending(r.Context(), deviceKey(c.Value))
	if err != nil {
		return false
	}
	var d deviceRecord
	if json.Unmarshal(b, &d) != nil || d.UserID != userID || !s.now().Before(d.Expires) {
		return false
	}
	fp, err := s.factorFingerprint(r.Context(), userID)
	return err == nil && subtle.ConstantTimeCompare([]byte(fp), []byte(d.Factors)) == 1
}

type enrollData struct {
	TOTP    bool
	Passkey bool
	Codes   []string
	Name    string
}

func (s *Surface) enrollPage(w http.ResponseWriter, r *http.Request) {
	p, _, u, ok := s.pendingFor(w, r)
	if !ok {
		return
	}
	if !p.NeedMFA {
		http.Redirect(w, r, s.stepURL(p), http.StatusFound)
		return
	}
	d := enrollData{TOTP: true, Passkey: s.passkeysOn(), Name: u.DisplayName()}
	s.Pages.Render(w, http.StatusOK, "signin_enroll", web.Page{Title: "Set up a security method", CSRF: p.CSRF, Data: d})
}

func (s *Surface) enrollTOTPStart(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	p, handle, u, ok := s.pendingFor(w, r)
	if !ok {
		return
	}
	if !s.checkPendingCSRF(r, p) {
		s.Pages.Render(w, http.StatusForbidden, "signin_enroll", web.Page{Title: "Set up a security method", CSRF: p.CSRF, Error: "The form expired. Please try again.",
			Data: enrollData{TOTP: true, Passkey: s.passkeysOn(), Name: u.DisplayName()}})
		return
	}
	if !p.NeedMFA {
		http.Redirect(w, r, s.stepURL(p), http.StatusSeeOther)
		return
	}
	f, _, err := s.MFA.EnrollTOTP(s.auditContext(r, u), u.ID, mfa.ProviderOkta)
	if err != nil {
		if errs.Is(err, errs.Invalid) {
			// An app is set up already: verify with it instead.
			http.Redirect(w, r, "/login/verify", http.StatusSeeOther)
			return
		}
		s.unavailable(w, r, err)
		return
	}
	p.Enrolling = f.ID
	if err := s.savePending(r.Context(), handle, p); err != nil {
		s.unavailable(w, r, err)
		return
	}
	http.Redirect(w, r, "/login/enroll/totp/"+url.PathEscape(f.ID), http.StatusSeeOther)
}

// TOTPSetup is what the authenticator-app set-up page shows.
type TOTPSetup struct {
	Action  string // where the code is posted
	QR      string // the QR code image's address
	Key     string // the seed, grouped
	Account string
	Issuer  string
	Cancel  string
}

func (s *Surface) enrollTOTPPage(w http.ResponseWriter, r *http.Request) {
	p, _, u, ok := s.pendingFor(w, r)
	if !ok {
		return
	}
	s.renderEnrollTOTP(w, r, p, u, http.StatusOK, "")
}

func (s *Surface) renderEnrollTOTP(w http.ResponseWriter, r *http.Request, p *pendingSignIn, u *directory.User, status int, codeErr string) {
	id := r.PathValue("id")
	if id != p.Enrolling {
		http.Redirect(w, r, s.stepURL(p), http.StatusFound)
		return
	}
	enr, err := s.MFA.PendingTOTP(r.Context(), u.ID, id)
	if err != nil {
		// Expired or gone: start again.
		http.Redirect(w, r, "/login/enroll", http.StatusFound)
		return
	}
	d := TOTPSetup{Action: "/login/enroll/totp/" + url.PathEscape(id), QR: "/login/enroll/totp/" + url.PathEscape(id) + "/qr.png",
		Key: enr.Grouped(), Account: u.Login(), Issuer: s.MFA.Issuer, Cancel: "/login/enroll"}
	pg := web.Page{Title: "Set up an authenticator app", CSRF: p.CSRF, Data: d}
	if codeErr != "" {
		pg.FieldErrors = map[string]string{"code": codeErr}
	}
	s.Pages.Render(w, status, "totp_setup", pg)
}

func (s *Surface) enrollTOTPQR(w http.ResponseWriter, r *http.Request) {
	p, _, u, ok := s.pendingFor(w, r)
	if !ok {
		return
	}
	if r.PathValue("id") != p.Enrolling {
		http.NotFound(w, r)
		return
	}
	s.WriteQR(w, r, u.ID, p.Enrolling)
}

// WriteQR serves the QR code of a pending authenticator-app enrolment.
func (s *Surface) WriteQR(w http.ResponseWriter, r *http.Request, userID, factorID string) {
	enr, err := s.MFA.PendingTOTP(r.Context(), userID, factorID)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	png, err := enr.QRCode(240)
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(len(png)))
	w.Write(png)
}

func (s *Surface) enrollTOTPActivate(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	p, handle, u, ok := s.pendingFor(w, r)
	if !ok {
		return
	}
	if !s.checkPendingCSRF(r, p) {
		s.renderEnrollTOTP(w, r, p, u, http.StatusForbidden, "The form expired. Please try again.")
		return
	}
	if r.PathValue("id") != p.Enrolling {
		http.Redirect(w, r, s.stepURL(p), http.StatusSeeOther)
		return
	}
	code := r.PostFormValue("code")
	if mfa.NormalizeCode(code) == "" {
		s.renderEnrollTOTP(w, r, p, u, http.StatusBadRequest, "Enter the six-digit code your app shows.")
		return
	}
	if s.throttled(w, r, func(status int, _, msg string) { s.renderEnrollTOTP(w, r, p, u, status, msg) }) {
		return
	}
	ctx := s.auditContext(r, u)
	if _, err := s.MFA.ActivateTOTP(ctx, u.ID, p.Enrolling, code); err != nil {
		if mfa.LockedOut(err) {
			s.dropPending(w, r, handle)
			s.Message(w, r, http.StatusForbidden, "Account locked", "Too many failed attempts. Your account is locked; contact your administrator.", "")
			return
		}
		if e, ok := errs.As(err); ok && e.Kind == errs.Forbidden {
			s.renderEnrollTOTP(w, r, p, u, http.StatusBadRequest, "That code is not right. Check the time on your phone and try the current code.")
			return
		}
		if errs.Is(err, errs.IllegalState) || errs.Is(err, errs.NotFound) {
			p.Enrolling = ""
			_ = s.savePending(r.Context(), handle, p)
			http.Redirect(w, r, "/login/enroll", http.StatusSeeOther)
			return
		}
		s.unavailable(w, r, err)
		return
	}
	loc, err := s.enrolledAtSignIn(r, p, handle, []string{"otp"})
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	http.Redirect(w, r, loc, http.StatusSeeOther)
}

// enrolledAtSignIn counts the new factor as the second factor; the
// recovery codes come next, shown once. It returns where to go.
func (s *Surface) enrolledAtSignIn(r *http.Request, p *pendingSignIn, handle string, amr []string) (string, error) {
	p.NeedMFA, p.Enrolling, p.Passkey, p.CodesDue = false, "", "", true
	p.MFATime = s.now().UTC()
	p.AMR = appendAMR(p.AMR, append(amr, "mfa")...)
	if err := s.savePending(r.Context(), handle, p); err != nil {
		return "", err
	}
	return "/login/enroll/codes", nil
}

// enrollCodes shows the recovery codes of a factor set up at sign-in,
// once: a reload continues the sign-in instead.
func (s *Surface) enrollCodes(w http.ResponseWriter, r *http.Request) {
	p, handle, u, ok := s.pendingFor(w, r)
	if !ok {
		return
	}
	if !p.CodesDue {
		p.Codes = false
		s.advance(w, r, p, handle)
		return
	}
	codes, err := s.MFA.NewRecoveryCodes(s.auditContext(r, u), u.ID)
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	p.CodesDue, p.Codes = false, true
	if err := s.savePending(r.Context(), handle, p); err != nil {
		s.unavailable(w, r, err)
		return
	}
	s.Pages.Render(w, http.StatusOK, "recovery_codes", web.Page{Title: "Save your recovery codes", CSRF: p.CSRF,
		Data: recoveryData{Codes: codes, Action: "/login/enroll/continue"}})
}

type recoveryData struct {
	Codes  []string
	Action string // the form that continues
	Back   string // or the link that does
}

func (s *Surface) enrollContinue(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	p, handle, _, ok := s.pendingFor(w, r)
	if !ok {
		return
	}
	if !s.checkPendingCSRF(r, p) {
		s.Message(w, r, http.StatusForbidden, "Sign In", "The form expired. Please try again.", "")
		return
	}
	p.Codes = false
	s.advance(w, r, p, handle)
}

func (s *Surface) expiredPasswordPage(w http.ResponseWriter, r *http.Request) {
	p, _, _, ok := s.pendingFor(w, r)
	if !ok {
		return
	}
	if p.NeedMFA || !p.ChangePassword {
		http.Redirect(w, r, s.stepURL(p), http.StatusFound)
		return
	}
	s.Pages.Render(w, http.StatusOK, "setpassword", web.Page{Title: "Your password has expired", CSRF: p.CSRF,
		Data: setPasswordData{Action: "/login/password", Intro: "Choose a new password to continue."}})
}

func (s *Surface) expiredPassword(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	p, handle, u, ok := s.pendingFor(w, r)
	if !ok {
		return
	}
	render := func(status int, field, msg string) {
		pg := web.Page{Title: "Your password has expired", CSRF: p.CSRF, Data: setPasswordData{Action: "/login/password", Intro: "Choose a new password to continue."}}
		if field != "" {
			pg.FieldErrors = map[string]string{field: msg}
		} else {
			pg.Error = msg
		}
		s.Pages.Render(w, status, "setpassword", pg)
	}
	if !s.checkPendingCSRF(r, p) {
		render(http.StatusForbidden, "", "The form expired. Please try again.")
		return
	}
	if p.NeedMFA || !p.ChangePassword {
		http.Redirect(w, r, s.stepURL(p), http.StatusSeeOther)
		return
	}
	pw, confirm := r.PostFormValue("password"), r.PostFormValue("confirm")
	switch {
	case pw == "":
		render(http.StatusBadRequest, "password", "Enter a new password.")
		return
	case pw != confirm:
		render(http.StatusBadRequest, "confirm", "The two passwords are not the same.")
		return
	}
	if _, err := s.Directory.SetPassword(s.auditContext(r, u), u.ID, pw); err != nil {
		var pe *credential.PolicyError
		if errors.As(err, &pe) {
			render(http.StatusBadRequest, "password", pe.Error())
			return
		}
		if e, ok := errs.As(err); ok && len(e.Fields) > 0 {
			render(http.StatusBadRequest, "password", e.Fields[0].Message)
			return
		}
		s.unavailable(w, r, err)
		return
	}
	p.ChangePassword = false
	s.advance(w, r, p, handle)
}

// passkeysOn reports whether passkeys can be used.
func (s *Surface) passkeysOn() bool { return s.MFA != nil && s.MFA.PasskeysOn() }
