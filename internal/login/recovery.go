package login

import (
	"context"
	"net/http"
	"strings"

	"github.com/gatehouse/gatehouse/internal/errs"
	"github.com/gatehouse/gatehouse/internal/web"
)

// Recovery is self-service password reset by email (package recovery).
type Recovery interface {
	Enabled() bool
	// Request asks for a reset link for a username or email address. It
	// fails only for a throttled address (errs.RateLimited), input that
	// is not a username (errs.Invalid) or an internal error; success says
	// nothing about whether the account exists.
	Request(ctx context.Context, identifier, ip string) error
	// LinkLifetime says how long a reset link works ("1 hour").
	LinkLifetime() string
}

// The "Forgot password?" pages: /forgot-password asks for a username or
// email address and always gives the same answer; the emailed link opens
// the set-password page of password.go.

func (s *Surface) mountRecovery(mux *http.ServeMux) {
	mux.HandleFunc("GET /forgot-password", s.forgotPage)
	mux.HandleFunc("POST /forgot-password", s.forgot)
	mux.HandleFunc("GET /reset-password/done", s.resetDone)
}

func (s *Surface) recoveryEnabled() bool { return s.Recovery != nil && s.Recovery.Enabled() }

type forgotData struct{ Username string }

const forgotTitle = "Reset your password"

func (s *Surface) forgotPage(w http.ResponseWriter, r *http.Request) {
	if !s.recoveryEnabled() {
		s.Message(w, r, http.StatusNotFound, forgotTitle, "Password reset by email is not set up here.", "Ask your administrator to reset your password.")
		return
	}
	s.Pages.Render(w, http.StatusOK, "forgot", web.Page{Title: forgotTitle, CSRF: s.preSessionToken(w, r), Data: forgotData{}})
}

func (s *Surface) forgot(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if !s.recoveryEnabled() {
		s.Message(w, r, http.StatusNotFound, forgotTitle, "Password reset by email is not set up here.", "Ask your administrator to reset your password.")
		return
	}
	tok := s.preSessionToken(w, r)
	username := strings.TrimSpace(r.PostFormValue("username"))
	render := func(status int, field, msg string) {
		p := web.Page{Title: forgotTitle, CSRF: tok, Data: forgotData{Username: username}}
		if field != "" {
			p.FieldErrors = map[string]string{field: msg}
			p.Error = "Fix the field marked below."
		} else {
			p.Error = msg
		}
		s.Pages.Render(w, status, "forgot", p)
	}
	if !s.checkPreSessionCSRF(r) {
		render(http.StatusForbidden, "", "The form expired. Please try again.")
		return
	}
	err := s.Recovery.Request(r.Context(), username, web.ClientIP(r))
	if e, ok := errs.As(err); ok {
		switch e.Kind {
		case errs.Invalid:
			msg := e.Msg
			if len(e.Fields) > 0 {
				msg = e.Fields[0].Message
			}
			render(http.StatusBadRequest, "username", msg)
			return
		case errs.RateLimited:
			w.Header().Set("Retry-After", "3600")
			render(http.StatusTooManyRequests, "", e.Msg)
			return
		}
	}
	if err != nil {
		// Logged, and answered like any other request: a failure that
		// only a known account can reach must not tell it apart.
		web.Logger(r.Context(), s.Log).Error("password reset request", "err", err)
	}
	p := web.Page{Title: "Check your email", Data: map[string]string{
		"Message": "If an account matches " + username + ", we sent a link to its email address. The link works once and expires in " +
			s.Recovery.LinkLifetime() + ".",
		"Detail":    "No email? Check your spam folder, or ask again in a few minutes. Your password has not changed.",
		"Back":      "/login",
		"BackLabel": "Back to sign in",
	}}
	s.Pages.Render(w, http.StatusOK, "message", p)
}

func (s *Surface) resetDone(w http.ResponseWriter, r *http.Request) {
	s.Pages.Render(w, http.StatusOK, "message", web.Page{Title: "Password changed", Data: map[string]string{
		"Message":   "Your password was changed, and you were signed out everywhere.",
		"Detail":    "Sign in with your new password.",
		"Back":      "/login",
		"BackLabel": "Sign in",
	}})
}
