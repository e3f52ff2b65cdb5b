package login

import (
	"errors"
	"net/http"

	"github.com/gatehouse/gatehouse/internal/credential"
	"github.com/gatehouse/gatehouse/internal/directory"
	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/session"
	"github.com/gatehouse/gatehouse/internal/web"
)

// The set-password pages serve the links of account activation
// (/welcome/{token}) and password reset (/reset-password/{token}): the
// person chooses a password, and the account becomes ACTIVE.

func (s *Surface) mountPassword(mux *http.ServeMux) {
	mux.HandleFunc("GET /welcome/{token}", s.setPasswordPage(session.PurposeActivation))
	mux.HandleFunc("POST /welcome/{token}", s.setPassword(session.PurposeActivation))
	mux.HandleFunc("GET /reset-password/{token}", s.setPasswordPage(session.PurposeReset))
	mux.HandleFunc("POST /reset-password/{token}", s.setPassword(session.PurposeReset))
}

type setPasswordData struct {
	Action string
	Intro  string
}

func passwordTitle(purpose string) (title, intro string) {
	if purpose == session.PurposeActivation {
		return "Activate your account", "Choose a password to activate your account."
	}
	return "Reset your password", "Choose a new password."
}

// badLink explains a link that is unknown, used or expired, and where to
// get a new one.
func (s *Surface) badLink(w http.ResponseWriter, r *http.Request, purpose string) {
	title, _ := passwordTitle(purpose)
	d := map[string]string{
		"Message":   "This link does not work any more: it was already used, it expired, or it is incomplete.",
		"Detail":    "Ask your administrator for a new activation link.",
		"Back":      "/login",
		"BackLabel": "Go to sign in",
	}
	if purpose == session.PurposeReset {
		d["Detail"] = "Each link works once and only for a limited time. Ask for a new one; the newest link you receive is the one to use."
		if s.recoveryEnabled() {
			d["Back"], d["BackLabel"] = "/forgot-password", "Request a new link"
		}
	}
	s.Pages.Render(w, http.StatusNotFound, "message", web.Page{Title: title, Data: d})
}

func (s *Surface) setPasswordPage(purpose string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		title, intro := passwordTitle(purpose)
		if _, err := s.OneTime.Peek(r.Context(), purpose, r.PathValue("token")); err != nil {
			s.badLink(w, r, purpose)
			return
		}
		s.Pages.Render(w, http.StatusOK, "setpassword", web.Page{Title: title, CSRF: s.preSessionToken(w, r),
			Data: setPasswordData{Action: r.URL.Path, Intro: intro}})
	}
}

func (s *Surface) setPassword(purpose string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
		title, intro := passwordTitle(purpose)
		tok := s.preSessionToken(w, r)
		render := func(status int, field, msg string) {
			p := web.Page{Title: title, CSRF: tok, Data: setPasswordData{Action: r.URL.Path, Intro: intro}}
			if field != "" {
				p.FieldErrors = map[string]string{field: msg}
			} else {
				p.Error = msg
			}
			s.Pages.Render(w, status, "setpassword", p)
		}
		if !s.checkPreSessionCSRF(r) {
			render(http.StatusForbidden, "", "The form expired. Please try again.")
			return
		}
		pw, confirm := r.PostFormValue("password"), r.PostFormValue("confirm")
		if pw == "" {
			render(http.StatusBadRequest, "password", "Enter a new password.")
			return
		}
		if pw != confirm {
			render(http.StatusBadRequest, "confirm", "The two passwords are not the same.")
			return
		}
		token := r.PathValue("token")
		userID, err := s.OneTime.Peek(r.Context(), purpose, token)
		if err != nil {
			s.badLink(w, r, purpose)
			return
		}
		// Check the policy before the token is used up, so a refused
		// password lets the person try again. A reset also unlocks.
		set := s.Directory.SetPassword
		if purpose == session.PurposeReset {
			set = s.Directory.ResetPassword
		}
		if _, err := set(r.Context(), userID, pw); err != nil {
			var pe *credential.PolicyError
			if errors.As(err, &pe) {
				render(http.StatusBadRequest, "password", pe.Error())
				return
			}
			if e, ok := errs.As(err); ok && len(e.Fields) > 0 {
				render(http.StatusBadRequest, "password", e.Fields[0].Message)
				return
			}
			web.Logger(r.Context(), s.Log).Error("set password", "err", err)
			render(http.StatusInternalServerError, "", "Your password could not be saved. Try again in a moment.")
			return
		}
		if _, err := s.OneTime.Redeem(r.Context(), purpose, token); err != nil {
			s.badLink(w, r, purpose)
			return
		}
		if u, err := s.Directory.Store.User(r.Context(), userID); err == nil && (u.Status == directory.Provisioned || u.Status == directory.Staged) {
			if _, err := s.Directory.Transition(r.Context(), userID, directory.OpActivate); err != nil {
				web.Logger(r.Context(), s.Log).Error("activate", "err", err)
			}
		}
		if purpose == session.PurposeReset {
			// Whoever knew the old password is signed out everywhere.
			if _, err := s.Sessions.Store.DeleteUserSessions(r.Context(), userID); err != nil {
				web.Logger(r.Context(), s.Log).Error("end sessions after reset", "err", err)
			}
			http.Redirect(w, r, "/reset-password/done", http.StatusSeeOther)
			return
		}
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	}
}
