package login

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/mfa"
	"github.com/gatehouse/gatehouse/internal/session"
)

// "Security methods" on the Settings page: set up an authenticator app,
// add a passkey, create new recovery codes, remove a method. A change
// needs a second factor given in this session within RecentMFA when the
// person has one already; otherwise they are asked for it first.

// RecentMFA is how recent the session's second factor must be to change
// security methods.
const RecentMFA = 30 * time.Minute

type methodRow struct {
	ID, Name, Kind, Added, LastUsed string
}

type securityMethods struct {
	Rows          []methodRow
	RecoveryLeft  int
	HasActive     bool
	HasTOTP       bool
	Passkeys      bool
	PendingTOTPID string
}

var notices = map[string]string{
	"factor":  "Your authenticator app is set up.",
	"passkey": "Your passkey was added.",
	"removed": "The security method was removed.",
}

func shortTime(t *time.Time) string {
	if t == nil || t.IsZero() {
		return "Never"
	}
	return t.UTC().Format("2 Jan 2006 15:04 UTC")
}

func (s *Surface) securityMethods(ctx context.Context, userID string) (*securityMethods, error) {
	if s.MFA == nil {
		return nil, nil
	}
	fs, _, err := s.MFA.List(ctx, userID)
	if err != nil {
		return nil, err
	}
	m := &securityMethods{Passkeys: s.passkeysOn()}
	for _, f := range fs {
		if f.Status != mfa.Active {
			if f.Type == mfa.TypeTOTP {
				m.PendingTOTPID = f.ID
			}
			continue
		}
		m.HasActive = true
		m.HasTOTP = m.HasTOTP || f.Type == mfa.TypeTOTP
		created := f.Created
		m.Rows = append(m.Rows, methodRow{ID: f.ID, Name: f.Name, Kind: f.Label(), Added: shortTime(&created), LastUsed: shortTime(f.LastUsed)})
	}
	if m.RecoveryLeft, err = s.MFA.RecoveryCodesLeft(ctx, userID); err != nil {
		return nil, err
	}
	return m, nil
}

func (s *Surface) mountSecurityMethods(mux *http.ServeMux) {
	mux.HandleFunc("POST /enduser/settings/factors/totp", s.settingsTOTPStart)
	mux.HandleFunc("GET /enduser/settings/factors/{id}/setup", s.settingsTOTPPage)
	mux.HandleFunc("GET /enduser/settings/factors/{id}/qr.png", s.settingsTOTPQR)
	mux.HandleFunc("POST /enduser/settings/factors/{id}/activate", s.settingsTOTPActivate)
	mux.HandleFunc("POST /enduser/settings/factors/{id}/remove", s.settingsRemove)
	mux.HandleFunc("POST /enduser/settings/recovery-codes", s.settingsRecoveryCodes)
	mux.HandleFunc("POST /enduser/settings/passkeys/options", s.settingsPasskeyOptions)
	mux.HandleFunc("POST /enduser/settings/passkeys", s.settingsPasskey)
}

// changeAllowed checks the form and that the session may change security
// methods; otherwise it answers (a CSRF error, or a step-up).
func (s *Surface) changeAllowed(w http.ResponseWriter, r *http.Request) (*session.Session, *directory.User, bool) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	sess, u, err := s.Current(r)
	if err != nil {
		s.RedirectToSignIn(w, r, "/enduser/settings")
		return nil, nil, false
	}
	if err := s.CheckCSRF(r, sess); err != nil {
		s.Message(w, r, http.StatusForbidden, "Settings", err.Error(), "")
		return nil, nil, false
	}
	has, err := s.MFA.HasActive(r.Context(), u.ID)
	if err != nil {
		s.unavailable(w, r, err)
		return nil, nil, false
	}
	if has && (sess.MFATime.IsZero() || s.now().Sub(sess.MFATime) > RecentMFA) {
		// Prove the existing factor first, then come back to Settings.
		s.StepUp(w, r, sess, "/enduser/settings")
		return nil, nil, false
	}
	return sess, u, true
}

func (s *Surface) settingsTOTPStart(w http.ResponseWriter, r *http.Request) {
	_, u, ok := s.changeAllowed(w, r)
	if !ok {
		return
	}
	f, _, err := s.MFA.EnrollTOTP(s.auditContext(r, u), u.ID, mfa.ProviderOkta)
	if err != nil {
		if e, ok := errs.As(err); ok && e.Kind == errs.Invalid {
			s.Message(w, r, http.StatusConflict, "Settings", "You have an authenticator app set up already. Remove it first to set up another.", "")
			return
		}
		s.unavailable(w, r, err)
		return
	}
	http.Redirect(w, r, "/enduser/settings/factors/"+url.PathEscape(f.ID)+"/setup", http.StatusSeeOther)
}

func (s *Surface) renderSettingsTOTP(w http.ResponseWriter, r *http.Request, sess *session.Session, u *directory.User, status int, codeErr string) {
	id := r.PathValue("id")
	enr, err := s.MFA.PendingTOTP(r.Context(), u.ID, id)
	if err != nil {
		s.Message(w, r, http.StatusNotFound, "Set up an authenticator app", "This set-up has expired. Start again from Settings.", "")
		return
	}
	base := "/enduser/settings/factors/" + url.PathEscape(id)
	d := TOTPSetup{Action: base + "/activate", QR: base + "/qr.png", Key: enr.Grouped(), Account: u.Login(), Issuer: s.MFA.Issuer, Cancel: "/enduser/settings"}
	pg := s.PageFor(r, sess, u, "Set up an authenticator app", "settings", d)
	if codeErr != "" {
		pg.FieldErrors = map[string]string{"code": codeErr}
	}
	s.Pages.Render(w, status, "totp_setup", pg)
}

func (s *Surface) settingsTOTPPage(w http.ResponseWriter, r *http.Request) {
	sess, u, err := s.Current(r)
	if err != nil {
		s.RedirectToSignIn(w, r, "/enduser/settings")
		return
	}
	s.renderSettingsTOTP(w, r, sess, u, http.StatusOK, "")
}

func (s *Surface) settingsTOTPQR(w http.ResponseWriter, r *http.Request) {
	_, u, err := s.Current(r)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	s.WriteQR(w, r, u.ID, r.PathValue("id"))
}

func (s *Surface) settingsTOTPActivate(w http.ResponseWriter, r *http.Request) {
	sess, u, ok := s.changeAllowed(w, r)
	if !ok {
		return
	}
	code := r.PostFormValue("code")
	if mfa.NormalizeCode(code) == "" {
		s.renderSettingsTOTP(w, r, sess, u, http.StatusBadRequest, "Enter the six-digit code your app shows.")
		return
	}
	if s.throttled(w, r, func(status int, _, msg string) { s.renderSettingsTOTP(w, r, sess, u, status, msg) }) {
		return
	}
	ctx := s.auditContext(r, u)
	if _, err := s.MFA.ActivateTOTP(ctx, u.ID, r.PathValue("id"), code); err != nil {
		if mfa.LockedOut(err) {
			// Wrong codes count here as at sign-in: a locked person's
			// session ends.
			if c, cerr := r.Cookie(s.CookieName()); cerr == nil {
				_ = s.Sessions.End(r.Context(), c.Value)
			}
			s.Message(w, r, http.StatusForbidden, "Account locked", "Too many failed attempts. Your account is locked; contact your administrator.", "")
			return
		}
		if e, ok := errs.As(err); ok && e.Kind == errs.Forbidden {
			s.renderSettingsTOTP(w, r, sess, u, http.StatusBadRequest, "That code is not right. Check the time on your phone and try the current code.")
			return
		}
		if e, ok := errs.As(err); ok && e.Kind != errs.Internal {
			s.Message(w, r, http.StatusBadRequest, "Set up an authenticator app", e.Msg, "")
			return
		}
		s.unavailable(w, r, err)
		return
	}
	s.afterNewFactor(w, r, sess, u, "factor")
}

// afterNewFactor shows new recovery codes once when the person has none,
// or goes back to Settings.
func (s *Surface) afterNewFactor(w http.ResponseWriter, r *http.Request, sess *session.Session, u *directory.User, notice string) {
	left, err := s.MFA.RecoveryCodesLeft(r.Context(), u.ID)
	if err != nil {
		s.unavailable(w, r, err)
		return
	}
	if left > 0 {
		http.Redirect(w, r, "/enduser/settings?saved="+notice, http.StatusSeeOther)
		return
	}
	s.showRecoveryCodes(w, r, sess, u)
}

func (s *Surface) showRecoveryCodes(w http.ResponseWriter, r *http.Request, sess *session.Session, u *directory.User) {
	codes, err := s.MFA.NewRecoveryCodes(s.auditContext(r, u), u.ID)
	if err != nil {
		if e, ok := errs.As(err); ok && e.Kind == errs.IllegalState {
			s.Message(w, r, http.StatusBadRequest, "Recovery codes", e.Msg, "")
			return
		}
		s.unavailable(w, r, err)
		return
	}
	s.Pages.Render(w, http.StatusOK, "recovery_codes", s.PageFor(r, sess, u, "Save your recovery codes", "settings",
		recoveryData{Codes: codes, Back: "/enduser/settings"}))
}

func (s *Surface) settingsRecoveryCodes(w http.ResponseWriter, r *http.Request) {
	sess, u, ok := s.changeAllowed(w, r)
	if !ok {
		return
	}
	s.showRecoveryCodes(w, r, sess, u)
}

func (s *Surface) settingsRemove(w http.ResponseWriter, r *http.Request) {
	_, u, ok := s.changeAllowed(w, r)
	if !ok {
		return
	}
	if err := s.MFA.Reset(s.auditContext(r, u), u.ID, r.PathValue("id")); err != nil {
		if errs.Is(err, errs.NotFound) {
			s.Message(w, r, http.StatusNotFound, "Settings", "That security method does not exist.", "")
			return
		}
		s.unavailable(w, r, err)
		return
	}
	http.Redirect(w, r, "/enduser/settings?saved=removed", http.StatusSeeOther)
}
