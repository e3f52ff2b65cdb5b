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

func (s *Surface) setPasswordPage(purpose string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		title, intro := passwordTitle(purpose)
		if _, err := s.OneTime.Peek(r.Context(), purpose, r.PathValue("token")); err != nil {
			s.Message(w, r, http.StatusNotFound, title, err.Error(), "")
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
			s.Message(w, r, http.StatusNotFound, title, err.Error(), "")
			return
		}
		// Check the policy before the token is used up, so a refused
		// password lets the person try again.
		if _, err := s.Directory.SetPassword(r.Context(), userID, pw); err != nil {
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
			s.Message(w, r, http.StatusNotFound, title, err.Error(), "")
			return
		}
		if u, err := s.Directory.Store.User(r.Context(), userID); err == nil && (u.Status == directory.Provisioned || u.Status == directory.Staged) {
			if _, err := s.Directory.Transition(r.Context(), userID, directory.OpActivate); err != nil {
				web.Logger(r.Context(), s.Log).Error("activate", "err", err)
			}
		}
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	}
}
