package login

import (
	"errors"
	"net/http"

	"github.com/gatehouse/gatehouse/internal/credential"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/session"
	"github.com/gatehouse/gatehouse/internal/web"
)

// The person's settings page: their profile and a password change.

type settingsData struct {
	Login, Email, FirstName, LastName string
	Saved                             bool
	// Notice is the outcome of a change of security methods.
	Notice string
	// Methods are the person's security methods (nil without MFA).
	Methods *securityMethods
}

func (s *Surface) mountSettings(mux *http.ServeMux) {
	mux.HandleFunc("GET /enduser/settings", s.settings)
	mux.HandleFunc("POST /enduser/settings/password", s.changePassword)
	if s.MFA != nil {
		s.mountSecurityMethods(mux)
	}
}

func (s *Surface) settings(w http.ResponseWriter, r *http.Request) {
	sess, u, err := s.Current(r)
	if err != nil {
		s.RedirectToSignIn(w, r, r.URL.RequestURI())
		return
	}
	d := settingsData{Login: u.Login(), Email: u.Profile.String("email"), FirstName: u.Profile.String("firstName"),
		LastName: u.Profile.String("lastName"), Saved: r.URL.Query().Get("saved") == "1", Notice: notices[r.URL.Query().Get("saved")]}
	if d.Methods, err = s.securityMethods(r.Context(), u.ID); err != nil {
		web.Logger(r.Context(), s.Log).Error("security methods", "err", err)
		s.Message(w, r, http.StatusInternalServerError, "Settings", "Your settings could not be shown right now. Try again in a moment.", "")
		return
	}
	s.Pages.Render(w, http.StatusOK, "settings", s.PageFor(r, sess, u, "Settings", "settings", d))
}

func (s *Surface) changePassword(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	sess, u, err := s.Current(r)
	if err != nil {
		s.RedirectToSignIn(w, r, "/enduser/settings")
		return
	}
	if err := s.CheckCSRF(r, sess); err != nil {
		s.Message(w, r, http.StatusForbidden, "Settings", err.Error(), "")
		return
	}
	d := settingsData{Login: u.Login(), Email: u.Profile.String("email"), FirstName: u.Profile.String("firstName"), LastName: u.Profile.String("lastName")}
	d.Methods, _ = s.securityMethods(r.Context(), u.ID)
	fail := func(status int, field, msg string) {
		p := s.PageFor(r, sess, u, "Settings", "settings", d)
		p.FieldErrors = map[string]string{field: msg}
		s.Pages.Render(w, status, "settings", p)
	}
	oldPw, newPw, confirm := r.PostFormValue("oldPassword"), r.PostFormValue("newPassword"), r.PostFormValue("confirm")
	switch {
	case oldPw == "":
		fail(http.StatusBadRequest, "oldPassword", "Enter your current password.")
		return
	case newPw == "":
		fail(http.StatusBadRequest, "newPassword", "Enter a new password.")
		return
	case newPw != confirm:
		fail(http.StatusBadRequest, "confirm", "The two passwords are not the same.")
		return
	}
	if _, err := s.Directory.ChangePassword(r.Context(), u.ID, oldPw, newPw); err != nil {
		var pe *credential.PolicyError
		if errors.As(err, &pe) {
			fail(http.StatusBadRequest, "newPassword", pe.Error())
			return
		}
		if e, ok := errs.As(err); ok && e.Kind != errs.Internal {
			field, msg := "newPassword", e.Msg
			if len(e.Fields) > 0 {
				field, msg = e.Fields[0].Field, e.Fields[0].Message
			}
			fail(http.StatusBadRequest, field, msg)
			return
		}
		web.Logger(r.Context(), s.Log).Error("change password", "err", err)
		fail(http.StatusInternalServerError, "newPassword", "Your password could not be changed. Try again in a moment.")
		return
	}
	// A new session after a password change; the others of this person end.
	if c, err := r.Cookie(s.CookieName()); err == nil {
		_ = s.Sessions.End(r.Context(), c.Value)
	}
	_, _ = s.Sessions.Store.DeleteUserSessions(r.Context(), u.ID)
	value, _, err := s.Sessions.StartWith(r.Context(), u.ID, web.ClientIP(r), r.UserAgent(),
		session.StartOptions{AMR: sess.AMR, MFATime: sess.MFATime, Idle: sess.IdleTimeout, Max: sess.Expires.Sub(s.now()), Expires: sess.Expires})
	if err == nil {
		s.setSessionCookie(w, value)
	}
	http.Redirect(w, r, "/enduser/settings?saved=1", http.StatusSeeOther)
}
